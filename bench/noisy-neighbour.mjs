// The noisy-neighbour scenario of `npm run bench` (docs/testing.md, "Measured").
import { join } from 'node:path';
import { client } from '../scripts/lib/client.mjs';
import { pacedIngest } from '../scripts/lib/paced-load.mjs';
import { startReceiver } from '../scripts/lib/receiver.mjs';
import { sleep, startFastService } from '../scripts/lib/service.mjs';
import { summarize, waitUntil } from './measure.mjs';

const NOISY_BACKLOG = Number(process.env.BENCH_NOISY_BACKLOG ?? 2000);
const NOISY_B_RATE = 200;
const NOISY_LABEL = { steady: 'while A hangs', onset: 'from the first hang', alone: 'alone (control: A idle)' };
/** The `-batched` modes post B's activities as a batching platform would: what fell due in 50 ms, together. */
const NOISY_BATCH_MS = 50;
const NOISY_B_SECONDS = Number(process.env.BENCH_NOISY_SECONDS ?? 15);

/**
 * Noisy neighbour (docs/testing.md): app A's receiver never answers within the 10 s timeout and has
 * `NOISY_BACKLOG` events queued, while app B is ingested at 200 activities/s. B's ingest→receipt
 * p99, and whether any of B's attempts was anything but delivered (a timeout that was really a wait
 * for a connection would show as a retry). `mode`: `steady`, B starts once the service has seen A
 * hang (A is on the slow queue); `onset`, B starts together with A's backlog; `alone`, A has nothing
 * queued, so B's figures show what this machine does for B with no neighbour at all.
 * A `-batched` suffix posts B's activities in 50 ms batches instead of one per request.
 * @param {string} stateRoot @param {string} mode
 */
export async function noisyNeighbourRun(stateRoot, mode) {
  const backlog = mode.startsWith('alone') ? 0 : NOISY_BACKLOG;
  const batchMs = mode.endsWith('-batched') ? NOISY_BATCH_MS : 0;
  const hangMs = 15_000;
  const arrivals = new Map();
  const receiver = await startReceiver({
    keep: false,
    answer: (d) => (d.path === '/noisy' ? { status: 200, afterMs: hangMs } : 200),
    onDelivery: (d) => {
      if (d.path === '/quiet' && d.json?.tweet_create_events) arrivals.set(d.json.tweet_create_events[0].text, d.at);
    },
  });
  const service = await startFastService({ stateDir: join(stateRoot, `noisy-${mode}`) });
  const svc = client(service.baseUrl, service.platformToken);
  try {
    const make = async (name, path) => {
      const app = await svc.activeApp(name, { provisioned_subscriptions: 20 });
      receiver.trustApp(app.name, app.consumerSecret);
      const hook = await svc.registerWebhook(app, receiver.url(path));
      receiver.trustWebhook(hook.id, app.name, hook.signing_secret);
      const users = Array.from({ length: 20 }, (_, i) => String((path === '/noisy' ? 7_000_000 : 8_000_000) + i));
      for (const user of users) await svc.subscribe(app, hook.id, user, ['tweet.read']);
      return { app, hook, users };
    };
    const noisy = await make('noisy-a', '/noisy');
    const quiet = await make('quiet-b', '/quiet');
    const tweetBy = (user, text) => ({
      id: text,
      type: 'tweet_create',
      tweet: { id: '1', text, author: { id: user, name: 'n', screen_name: 's' } },
    });
    for (let i = 0; i < backlog; i += 100) {
      await svc.ingest(Array.from({ length: 100 }, (_, j) => tweetBy(noisy.users[(i + j) % noisy.users.length], `a-${i + j}`)));
    }
    if (mode.startsWith('steady')) await sleep(12_000); // A's first requests hung and timed out: the service knows A is slow
    // B's posts come from a thread of their own, so the receiver on this thread answers promptly.
    const ids = Array.from({ length: NOISY_B_RATE * NOISY_B_SECONDS }, (_, i) => `b-${i}`);
    const sentAt = await pacedIngest({
      baseUrl: service.baseUrl,
      platformToken: service.platformToken,
      users: quiet.users,
      prefix: 'b-',
      rate: NOISY_B_RATE,
      count: ids.length,
      batchMs,
    });
    await waitUntil(() => ids.every((id) => arrivals.has(id)), 60_000);
    const label = `${NOISY_LABEL[mode.replace('-batched', '')]}${batchMs ? `, posted in ${batchMs} ms batches` : ''}`;
    const summary = summarize(`noisy neighbour: B at ${NOISY_B_RATE}/s ${label}`, sentAt, arrivals, ids.length);
    // Every attempt B made: anything but delivered means B paid for A.
    let notDelivered = 0;
    for (const status of ['retrying', 'not_sent', 'unknown', 'failed']) {
      const log = await svc.call('GET', `/2/account_activity/webhooks/${quiet.hook.id}/deliveries?status=${status}&max_results=500`, {
        token: quiet.app.bearer,
      });
      notDelivered += log.body?.data?.length ?? 0;
    }
    const aLog = await svc.call('GET', `/2/account_activity/webhooks/${noisy.hook.id}/deliveries?max_results=500`, {
      token: noisy.app.bearer,
    });
    const aDelivered = (aLog.body?.data ?? []).filter((/** @type {{ outcome: string }} */ e) => e.outcome === 'delivered').length;
    return { ...summary, bAttemptsNotDelivered: notDelivered, aDeliveredMeanwhile: aDelivered, aBacklog: backlog };
  } finally {
    await service.stop();
    await receiver.close();
  }
}
