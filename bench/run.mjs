#!/usr/bin/env node
// npm run bench: end-to-end deliveries/s and ingest-to-receipt latency of the real pipeline (wrangler
// dev's local runtime, inspector off, a local Node receiver), next to the floor measured in the same
// run: a Worker that only sends to a queue and POSTs from its consumer. Loopback only, bounded.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { client } from '../scripts/lib/client.mjs';
import { startReceiver } from '../scripts/lib/receiver.mjs';
import { freePort, ROOT, sleep, startFastService } from '../scripts/lib/service.mjs';
import { loadRunStateRoot } from '../scripts/lib/state-root.mjs';
import { pump, setUpTenants, startReplayOfLastHour, summarize, waitUntil } from './measure.mjs';
import { noisyNeighbourRun } from './noisy-neighbour.mjs';
import { billPerMillionDeliveries, PRICES_CHECKED_ON } from './prices.mjs';

const EVENTS = Number(process.env.BENCH_EVENTS ?? 5000);
const PACED_RATE = Number(process.env.BENCH_PACED_RATE ?? 500); // activities/s for the latency run
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 10);
const TIME_LIMIT_MS = 120_000;
/** Where ingest keeps its fan-out index (FAN_OUT_INDEX, docs/scaling.md): `d1` (the default) or `objects`. */
const FAN_OUT_INDEX = process.env.BENCH_FAN_OUT_INDEX ?? 'd1';
const SETTLE_LIMIT_MS = 60_000;

/**
 * One local receiver (the shared one, verifying both signatures of every delivery): records when each
 * delivery id arrived. `idOf` extracts the id from a parsed body; `unsigned` is for the floor, which
 * sends no signatures.
 * @param {(json: any) => string} idOf
 * @param {{ unsigned?: boolean }} [options]
 */
async function startArrivalReceiver(idOf, { unsigned = false } = {}) {
  /** @type {Map<string, number>} */
  const arrivals = new Map();
  /** @type {Map<string, number>} webhook-id -> time, for deliveries carrying x-replay-job-id */
  const replayArrivals = new Map();
  /** @type {number | null} */
  let replayStatusAt = null;
  const receiver = await startReceiver({
    unsigned,
    keep: false,
    onDelivery: (d) => {
      if (d.json?.replay_job_status) replayStatusAt = d.at;
      else if (d.headers['x-replay-job-id']) replayArrivals.set(String(d.headers['webhook-id']), d.at);
      else {
        const id = idOf(d.json);
        if (!arrivals.has(id)) arrivals.set(id, d.at);
      }
    },
  });
  /** Forgets the last replay's copies and status, before the next replay is measured. */
  const resetReplay = () => {
    replayArrivals.clear();
    replayStatusAt = null;
  };
  return { ...receiver, arrivals, replayArrivals, replayStatusAt: () => replayStatusAt, resetReplay };
}

// ---- the floor --------------------------------------------------------------------------------

async function floorRun(receiver, stateDir, ids, paced) {
  const { unstable_startWorker } = await import('wrangler');
  const port = await freePort();
  const worker = await unstable_startWorker({
    config: join(ROOT, 'bench', 'floor', 'wrangler.toml'),
    dev: { inspector: false, persist: stateDir, server: { hostname: '127.0.0.1', port }, logLevel: 'warn', watch: false },
  });
  await worker.ready;
  const url = `http://127.0.0.1:${receiver.port}/floor`;
  const sentAt = new Map();
  const send = async (chunk) => {
    const t0 = Date.now();
    for (const id of chunk) sentAt.set(id, t0);
    await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ url, ids: chunk }) });
  };
  try {
    await pump(ids, send, paced ? PACED_RATE : null);
    await waitUntil(() => ids.every((id) => receiver.arrivals.has(id)), 60_000);
  } finally {
    await worker.dispose();
  }
  return sentAt;
}

// ---- the service ---------------------------------------------------------------------------------

async function serviceRun(api, tenants, count, paced, tag) {
  const users = tenants.flatMap((t) => t.users);
  const ids = Array.from({ length: count }, (_, i) => `${tag}-${i}`);
  const sentAt = new Map();
  const send = async (chunk) => {
    const activities = chunk.map((id, i) => ({
      id,
      type: 'tweet_create',
      tweet: {
        id: String(10_000 + i),
        text: id,
        author: { id: users[(Number(id.split('-')[1]) * 7919) % users.length], name: 'n', screen_name: 's' },
      },
    }));
    const t0 = Date.now();
    for (const id of chunk) sentAt.set(id, t0);
    await api.ingest(activities);
  };
  const started = Date.now();
  await pump(ids, send, paced ? PACED_RATE : null);
  return { ids, sentAt, ingestSeconds: (Date.now() - started) / 1000 };
}

async function main() {
  const hardStop = setTimeout(() => {
    console.error(`bench: time limit of ${TIME_LIMIT_MS / 1000}s per phase exceeded`);
    process.exit(2);
  }, TIME_LIMIT_MS * 4);
  hardStop.unref();
  /** @type {(Awaited<ReturnType<typeof replayRun>> & { name: string; ratioToFloor?: number; work: Awaited<ReturnType<typeof workPerDelivery>> })[]} one replay per one-app scenario (sharded or not), named after it, with its work per copy (live traffic beside it included) */
  const replays = [];
  /** Ingest requests answered 503 by a local runtime restart and sent again (scripts/lib/client.mjs). */
  let ingestRetries = 0;
  /** @type {any[]} */
  const noisyResults = [];
  const stateRoot = mkdtempSync(join(loadRunStateRoot(process.env.BENCH_STATE_ROOT), 'aae-bench-'));
  const results = [];
  /** @type {Record<string, number>} what the receivers found wrong with what arrived, by kind */
  const problems = {};
  const countProblems = (/** @type {{ problems: { kind: string }[] }} */ r) => {
    for (const p of r.problems) problems[p.kind] = (problems[p.kind] ?? 0) + 1;
  };
  try {
    // Floor, flood and paced.
    const floorReceiver = await startArrivalReceiver((json) => json.id, { unsigned: true });
    const floodIds = Array.from({ length: EVENTS }, (_, i) => `floor-${i}`);
    const floodSent = await floorRun(floorReceiver, join(stateRoot, 'floor1'), floodIds, false);
    const floorFlood = summarize('floor (flood)', floodSent, floorReceiver.arrivals, EVENTS);
    results.push(floorFlood);
    const pacedIds = Array.from({ length: PACED_RATE * PACED_SECONDS }, (_, i) => `floorp-${i}`);
    const pacedSent = await floorRun(floorReceiver, join(stateRoot, 'floor2'), pacedIds, true);
    results.push(summarize(`floor (paced ${PACED_RATE}/s)`, pacedSent, floorReceiver.arrivals, pacedIds.length));

    // The service.
    const receiver = await startArrivalReceiver((json) => json.tweet_create_events[0].text);
    const service = await startFastService({ stateDir: join(stateRoot, 'service'), vars: { FAN_OUT_INDEX } });
    const api = client(service.baseUrl, service.platformToken);
    try {
      // `AxU` is A apps of U users each; `AxUsN` spreads each app over N delivery shards (docs/scaling.md).
      const scenarios = (process.env.BENCH_SCENARIOS ?? '1x1000,50x20,200x5').split(',').map((s) => {
        const [, apps, users, shards] = /^(\d+)x(\d+)(?:s(\d+))?$/.exec(s) ?? [];
        if (!apps) throw new Error(`BENCH_SCENARIOS: ${s} is not AxU or AxUsN`);
        return [Number(apps), Number(users), Number(shards ?? 1)];
      });
      for (const [scenario, [apps, usersPerApp, shards]] of scenarios.entries()) {
        const label = `${apps} app${apps > 1 ? 's' : ''} x ${usersPerApp} users${shards > 1 ? `, ${shards} shards` : ''}`;
        const setupStarted = Date.now();
        const tenants = await setUpTenants(api, receiver, apps, usersPerApp, scenario, shards);
        console.error(`bench: ${label}: set up in ${((Date.now() - setupStarted) / 1000).toFixed(1)} s`);
        // The objects index is read once the cron's fill has marked it complete (the subscriptions
        // themselves were added to it as they were made): one run of the minute cron does that here.
        if (FAN_OUT_INDEX === 'objects') {
          await service.runMinuteCron();
          await sleep(1000); // the cron's work runs in waitUntil, after /__scheduled has answered
        }
        const tag = `s${apps}x${shards}`;
        await resetWork(api);
        const flood = await serviceRun(api, tenants, EVENTS, false, `${tag}f`);
        await waitUntil(() => flood.ids.every((id) => receiver.arrivals.has(id)), 60_000);
        results.push({
          ...summarize(`service ${label} (flood)`, flood.sentAt, receiver.arrivals, EVENTS),
          ingestSeconds: flood.ingestSeconds,
          work: await workPerDelivery(api),
        });
        await resetWork(api);
        const paced = await serviceRun(api, tenants, PACED_RATE * PACED_SECONDS, true, `${tag}p`);
        await waitUntil(() => paced.ids.every((id) => receiver.arrivals.has(id)), 60_000);
        results.push({
          ...summarize(`service ${label} (paced ${PACED_RATE}/s)`, paced.sentAt, receiver.arrivals, paced.ids.length),
          work: await workPerDelivery(api),
        });
        if (apps === 1 && process.env.BENCH_REPLAY !== '0') {
          receiver.resetReplay();
          await resetWork(api);
          const replay = await replayRun(api, receiver, tenants[0], flood.ids.length + paced.ids.length, tag);
          replays.push({ name: label, ...replay, work: await workPerDelivery(api) });
        }
      }
    } finally {
      ingestRetries = api.ingestRetries;
      await service.stop();
      countProblems(receiver);
      await receiver.close();
    }
    // The floor's flood again, after the service scenarios: one transient slow floor would flatter every
    // ratio, so the ratios are taken to the faster of the two.
    const againIds = Array.from({ length: EVENTS }, (_, i) => `floor-again-${i}`);
    const againSent = await floorRun(floorReceiver, join(stateRoot, 'floor3'), againIds, false);
    results.push(summarize('floor (flood, again after the service)', againSent, floorReceiver.arrivals, EVENTS));
    countProblems(floorReceiver);
    await floorReceiver.close();

    if (process.env.BENCH_NOISY !== '0') {
      // `alone` is the control: B at the same rate with A idle. B's figures beside A's hang are read against it.
      // The batched modes are how a platform posts 200 activities/s within its default ingest limit
      // (60,000 requests per 15 minutes, about 67 a second); one post per activity is the stress variant.
      const modes = process.env.BENCH_NOISY_MODES ?? 'steady-batched,onset-batched,alone-batched,steady,onset,alone';
      for (const mode of modes.split(',')) {
        const noisy = await noisyNeighbourRun(stateRoot, mode);
        noisyResults.push(noisy);
        results.push(noisy);
      }
    }
  } finally {
    rmSync(stateRoot, { recursive: true, force: true });
  }

  const floorRate = Math.max(...results.filter((r) => r.name.startsWith('floor (flood')).map((r) => r.perSecond));
  console.log(`\nfloor: ${floorRate} deliveries/s, the faster of its two flood runs; every ratio is to it`);
  for (const r of results) r.ratioToFloor = Number((r.perSecond / floorRate).toFixed(2));
  console.log('\n| run | delivered/expected | seconds | deliveries/s | ratio to floor | p50 ms | p99 ms |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.delivered}/${r.expected} | ${r.seconds}${r.ingestSeconds ? ` (ingest ${r.ingestSeconds.toFixed(2)})` : ''} | ${r.perSecond} | ${r.ratioToFloor} | ${r.p50} | ${r.p99} |`,
    );
  }
  for (const replay of replays) {
    replay.ratioToFloor = Number((replay.perSecond / floorRate).toFixed(2));
    console.log(
      `\nreplay (${replay.name}): ${replay.replayed}/${replay.expected} events in ${replay.seconds} s = ${replay.perSecond}/s, ${replay.ratioToFloor} of the floor ` +
        `(planned in ${replay.planMs} ms, before the clock starts) ` +
        `(bound ${replay.bound}/s); status event: ${replay.statusArrived ? 'yes' : 'NO'}; ` +
        `live traffic during the replay (${replay.live.delivered} at ${LIVE_DURING_REPLAY}/s): p50 ${replay.live.p50} ms, p99 ${replay.live.p99} ms`,
    );
  }
  console.log(
    '\n| run | Worker requests | DO requests | queue msgs written | queue msgs read | D1 rows read | D1 rows written | object rows read | object rows written | outbound | $ per million deliveries |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  /** @type {{ name: string; work: Awaited<ReturnType<typeof workPerDelivery>> }[]} */
  const worked = [
    ...results.flatMap((r) =>
      'work' in r && r.work ? [{ name: r.name, work: /** @type {Awaited<ReturnType<typeof workPerDelivery>>} */ (r.work) }] : [],
    ),
    ...replays.map((r) => ({ name: `replay (${r.name}), per copy`, work: r.work })),
  ];
  for (const r of worked) {
    const p = r.work.perDelivery;
    console.log(
      `| ${r.name} | ${p.worker_invocations} | ${p.do_requests} | ${p.queue_messages_written} | ${p.queue_messages_read} | ${p.d1_rows_read} | ${p.d1_rows_written} | ${p.object_rows_read} | ${p.object_rows_written} | ${p.outbound_requests} | ${r.work.usdPerMillionDeliveries.total} |`,
    );
  }
  console.log('\nDO requests per delivery, by method:');
  for (const r of worked) {
    const calls = Object.entries(r.work.doRequestsByMethod)
      .sort(([, a], [, b]) => b - a)
      .map(([method, n]) => `${method} ${n}`);
    console.log(`  ${r.name}: ${calls.join(', ')}`);
  }
  for (const n of noisyResults) {
    console.log(
      `\n${n.name}: p50 ${n.p50} ms, p99 ${n.p99} ms; B attempts not delivered: ${n.bAttemptsNotDelivered}; ` +
        (n.aBacklog > 0 ? `A (receiver hangs, ${n.aBacklog} queued) delivered meanwhile: ${n.aDeliveredMeanwhile}` : 'A idle (control)'),
    );
  }
  console.log(`\nprices: Cloudflare list prices checked on ${PRICES_CHECKED_ON} (bench/prices.mjs, docs/scaling.md)`);
  console.log(`\ningest requests sent again after a 503 (local runtime restart): ${ingestRetries}`);
  const problemCount = Object.values(problems).reduce((a, b) => a + b, 0);
  console.log(
    `\nreceiver problems (every service delivery verified, both signatures): ${problemCount ? JSON.stringify(problems) : 'none'}`,
  );
  mkdirSync(join(ROOT, '.bench'), { recursive: true });
  writeFileSync(
    join(ROOT, '.bench', 'delivery.json'),
    JSON.stringify(
      {
        at: new Date().toISOString(),
        events: EVENTS,
        fanOutIndex: FAN_OUT_INDEX,
        floorPerSecond: floorRate,
        results,
        replay: replays[0] ?? null,
        replays,
        noisyNeighbour: noisyResults,
        receiverProblems: problems,
        ingestRetries,
      },
      null,
      2,
    ),
  );
  console.log(`\nJSON: .bench/delivery.json`);
  /** @type {{ name: string }[]} */
  const lost = results.filter((r) => r.delivered < r.expected);
  for (const replay of replays) {
    if (replay.replayed < replay.expected || !replay.statusArrived) lost.push({ name: `replay (${replay.name})` });
  }
  if (lost.length) {
    console.error(`bench: ${lost.map((r) => r.name).join(', ')} did not deliver everything`);
    process.exitCode = 1;
  }
  if (problemCount) {
    console.error(`bench: the receiver found problems in what arrived: ${JSON.stringify(problems)}`);
    process.exitCode = 1;
  }
}

const LIVE_DURING_REPLAY = 100;
/** Replays everything the tenant's webhook received, with live traffic beside it. */
async function replayRun(api, receiver, tenant, expected, tag) {
  const { askedAt } = await startReplayOfLastHour(api, tenant);
  const started = Date.now();
  // The request returns once the job is planned: its copies are written and the first released.
  const planMs = started - askedAt;
  const liveIds = [];
  const liveSent = new Map();
  const liveRun = (async () => {
    for (let i = 0; !receiver.replayStatusAt() && Date.now() - started < 60_000; i++) {
      const id = `live-${tag}-${i}`; // each replay's live traffic has ids of its own: the receiver keeps every arrival
      liveIds.push(id);
      liveSent.set(id, Date.now());
      await api.ingest([
        {
          id,
          type: 'tweet_create',
          tweet: { id: '1', text: id, author: { id: tenant.users[i % tenant.users.length], name: 'n', screen_name: 's' } },
        },
      ]);
      await sleep(1000 / LIVE_DURING_REPLAY);
    }
  })();
  await waitUntil(() => receiver.replayStatusAt() !== null, 90_000);
  await liveRun;
  await waitUntil(() => liveIds.every((id) => receiver.arrivals.has(id)), 30_000);
  const last = Math.max(...receiver.replayArrivals.values());
  const seconds = (last - started) / 1000;
  const live = summarize('live during replay', liveSent, receiver.arrivals, liveIds.length);
  return {
    expected,
    replayed: receiver.replayArrivals.size,
    planMs,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(receiver.replayArrivals.size / seconds),
    bound: 2500,
    statusArrived: receiver.replayStatusAt() !== null,
    live: { delivered: live.delivered, p50: live.p50, p99: live.p99 },
  };
}

/** Zeroes the service's billable-work counters (src/observability/work-counters.ts). */
async function resetWork(api) {
  await settle(api);
  await api.platform('DELETE', '/internal/metrics/work');
}

/**
 * Waits until the service has gone quiet: its work counters unchanged over a second (bounded by
 * SETTLE_LIMIT_MS). A scenario starts on an idle service, so its figures and its counts are its own,
 * not the previous scenario's stragglers (queue messages still read, leases re-released).
 */
async function settle(api) {
  const started = Date.now();
  // Reading the counters is itself a Worker invocation: that one does not count as activity.
  const counts = async () => {
    const { worker_invocations: _, ...rest } = (await api.platform('GET', '/internal/metrics/work')).body.data;
    return JSON.stringify(rest);
  };
  let before = await counts();
  for (;;) {
    await sleep(1000);
    const now = await counts();
    if (now === before) break;
    if (Date.now() - started > SETTLE_LIMIT_MS) {
      console.error(`bench: the service was still busy after ${SETTLE_LIMIT_MS / 1000} s; measuring anyway`);
      break;
    }
    before = now;
  }
  const waited = Date.now() - started - 1000;
  if (waited >= 1000)
    console.error(`bench: waited ${(waited / 1000).toFixed(1)} s for the previous run's stragglers; last counts ${before}`);
}

/**
 * The billable work since the last reset, per delivery: counted by the service itself, so the figures
 * do not drift with a noisy machine. Waits for the service to go quiet first (reports still on their
 * way, stale queue messages still read), like every reset.
 */
async function workPerDelivery(api) {
  await settle(api);
  const res = await api.platform('GET', '/internal/metrics/work');
  const { do_requests_by_method: byMethod = {}, ...counts } = res.body.data;
  const deliveries = Math.max(1, counts.deliveries);
  const perDeliveryOf = (/** @type {Record<string, number>} */ entries) =>
    Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, Number((v / deliveries).toFixed(3))]));
  const { deliveries: _, ...per } = perDeliveryOf(counts);
  return {
    deliveries: counts.deliveries,
    perDelivery: per,
    doRequestsByMethod: perDeliveryOf(byMethod),
    usdPerMillionDeliveries: billPerMillionDeliveries(per),
  };
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
