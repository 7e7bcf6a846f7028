// What the bench measures, shared by its scenarios: latency percentiles, a run's summary, and waiting
// for arrivals.
import { sleep } from '../scripts/lib/service.mjs';

/** @param {number[]} values @param {number} p */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Deliveries per second and ingest-to-receipt percentiles of the ids in `sentAt` that arrived.
 * @param {string} name @param {Map<string, number>} sentAt @param {Map<string, number>} arrivals @param {number} expected
 */
export function summarize(name, sentAt, arrivals, expected) {
  const latencies = [];
  let first = Infinity;
  let last = 0;
  for (const [id, at] of arrivals) {
    const t0 = sentAt.get(id);
    if (t0 === undefined) continue;
    latencies.push(at - t0);
    first = Math.min(first, t0);
    last = Math.max(last, at);
  }
  const seconds = (last - first) / 1000;
  return {
    name,
    expected,
    delivered: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(latencies.length / seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Polls `predicate` every 100 ms until it holds or `timeoutMs` passed. @param {() => boolean} predicate @param {number} timeoutMs */
export async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await sleep(100);
}

/**
 * Sends ids in chunks of 100: as fast as 4 concurrent requests allow (`rate` null), or paced at `rate` ids/s.
 * @param {string[]} ids
 * @param {(chunk: string[]) => Promise<unknown>} send
 * @param {number | null} rate
 */
export async function pump(ids, send, rate) {
  const chunks = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(ids.slice(i, i + 100));
  if (rate === null) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (next < chunks.length) await send(chunks[next++]);
      }),
    );
    return;
  }
  const intervalMs = (100 / rate) * 1000;
  const started = Date.now();
  const inflight = [];
  for (let i = 0; i < chunks.length; i++) {
    const due = started + i * intervalMs;
    if (due > Date.now()) await sleep(due - Date.now());
    inflight.push(send(chunks[i]));
  }
  await Promise.all(inflight);
}

/**
 * Creates `apps` active apps with one webhook each on `receiver` (which learns their secrets) and
 * subscribes `usersPerApp` users to each; user ids are distinct across apps. Several scenarios on one
 * service each pass their own `scenario` number: its users and apps are then its own, so no earlier
 * scenario's app (still subscribed) receives its activities too. `shards`: each app's delivery shards.
 */
export async function setUpTenants(api, receiver, apps, usersPerApp, scenario = 0, shards = 1) {
  const ALL = ['tweet.read', 'dm.read'];
  const tenants = [];
  for (let a = 0; a < apps; a++) {
    const app = await api.activeApp(`bench-s${scenario}-${a}`, { provisioned_subscriptions: usersPerApp, delivery_shards: shards });
    receiver.trustApp(app.name, app.consumerSecret);
    const hook = await api.registerWebhook(app, receiver.url(`/app${a}`));
    receiver.trustWebhook(hook.id, app.name, hook.signing_secret);
    const users = Array.from({ length: usersPerApp }, (_, i) => String(1_000_000 * (scenario + 1) + a * usersPerApp + i));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < users.length) {
          const user = users[next++];
          await api.subscribe(app, hook.id, user, ALL);
        }
      }),
    );
    tenants.push({ app, hook, users });
  }
  return tenants;
}

/**
 * Asks for a replay of the last hour of everything the tenant's webhook received. Replay windows have
 * minute granularity and must end in the past, so this first waits for the next minute (≤ 60 s).
 * Returns when the replay was accepted, with the moment it was asked for.
 */
export async function startReplayOfLastHour(api, tenant) {
  await sleep(60_000 - (Date.now() % 60_000) + 200);
  const minute = (ms) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);
  const now = Date.now();
  const res = await api.call(
    'POST',
    `/2/account_activity/replay/webhooks/${tenant.hook.id}/subscriptions/all?from_date=${minute(now - 3_600_000)}&to_date=${minute(now)}`,
    { token: tenant.app.bearer },
  );
  if (res.status !== 200) throw new Error(`replay request: ${res.status} ${res.text}`);
  return { askedAt: now };
}
