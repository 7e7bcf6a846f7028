#!/usr/bin/env node
// npm run chaos: load and faults against the real service, then verdicts. Loopback only, bounded in
// events and time. Exits non-zero on any lost event, cross-tenant delivery, order violation or bad
// signature.
//
// Load: CHAOS_APPS apps x CHAOS_USERS users x CHAOS_ACTIVITIES activities, ingested concurrently by
// CHAOS_STREAMS streams. Every user belongs to one stream, which sends its activities in order, so the
// order of each lane is known. Subscriptions overlap across apps; some apps share one URL.
// Faults: receivers that fail a share of requests with 500, time out, answer 429 with retry-after,
// answer 410 once, or close the connection; one receiver down (every connection reset) for a minute;
// the service SIGKILLed and restarted on the same state mid-run.
// X Activity API: some apps also hold XAA subscriptions on the same webhooks, one reads its stream
// (reconnecting with backfill after the kill); judged by the XAA oracle (bench/chaos-xaa.mjs).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { client } from '../scripts/lib/client.mjs';
import { startReceiver } from '../scripts/lib/receiver.mjs';
import { freePort, ROOT, sleep, startServiceProcess } from '../scripts/lib/service.mjs';
import { concerns, SCOPE } from '../test/e2e/oracle.mjs';
import { isXaaEnvelope, readStream, STREAM_APP, subscribeXaa, xaaVerdicts } from './chaos-xaa.mjs';

const APPS = Number(process.env.CHAOS_APPS ?? 20);
const USERS = Number(process.env.CHAOS_USERS ?? 200);
const ACTIVITIES = Number(process.env.CHAOS_ACTIVITIES ?? 5_000);
const STREAMS = Number(process.env.CHAOS_STREAMS ?? 8);
const OUTAGE_MS = Number(process.env.CHAOS_OUTAGE_MS ?? 60_000);
const TIME_LIMIT_MS = Number(process.env.CHAOS_TIME_LIMIT_S ?? 420) * 1000;
const SCOPES = ['tweet.read', 'dm.read', 'follows.read', 'users.read'];
// Short retries and lease so that a bounded run still sees every delivery to its end.
const VARS = { RETRY_SCHEDULE_SECONDS: '1,2,4,8,15,15,15,15,15', DELIVERY_LEASE_SECONDS: '15' };

const started = Date.now();
const log = (msg) => console.error(`chaos ${((Date.now() - started) / 1000).toFixed(1)}s: ${msg}`);
const hardStop = setTimeout(() => {
  log(`time limit of ${TIME_LIMIT_MS / 1000}s reached`);
  process.exit(3);
}, TIME_LIMIT_MS);
hardStop.unref();

// ---- receivers and their faults ---------------------------------------------------------------

const FAULTS = ['ok', 'flaky', 'slow', 'limited', 'closer', 'gone', 'shared'];
const injected = { status500: 0, timeouts: 0, status429: 0, status410: 0, closed: 0, outage: 0 };
const goneOnce = new Set();
let outage = { from: Infinity, to: -Infinity };

/**
 * The fault a receiver path injects into one delivery, as the receiver's `answer`.
 * @param {import('../scripts/lib/receiver.mjs').Delivery} delivery
 * @returns {import('../scripts/lib/receiver.mjs').Answer}
 */
function faultFor(delivery) {
  const kind = delivery.path.split('/')[2];
  const roll = Math.random();
  if (kind === 'flaky' && roll < 0.2) {
    injected.status500++;
    return 500;
  }
  if (kind === 'limited' && roll < 0.1) {
    injected.status429++;
    return { status: 429, headers: { 'retry-after': '2' } };
  }
  if (kind === 'closer' && roll < 0.05) {
    injected.closed++;
    return 'close';
  }
  if (kind === 'slow' && roll < 0.01) {
    // Past the service's 10 s delivery timeout: the attempt times out before this answer.
    injected.timeouts++;
    return { status: 503, afterMs: 11_000 };
  }
  if (kind === 'gone' && !goneOnce.has(delivery.webhookId) && delivery.webhookId) {
    goneOnce.add(delivery.webhookId);
    injected.status410++;
    return 410;
  }
  return 200;
}

async function main() {
  const stateDir = mkdtempSync(join(process.env.CHAOS_STATE_ROOT ?? tmpdir(), 'aae-chaos-'));
  const port = await freePort();
  const platformToken = `aae_pt_chaos${Math.random().toString(36).slice(2)}`;
  let service = await startServiceProcess({ stateDir, port, vars: VARS, platformToken });
  const api = client(service.baseUrl, platformToken);
  /** Every request a receiver got, whatever it answered: each must be on its app's ledger. @type {{ app: string | null, id: string }[]} */
  const received = [];
  const receiver = await startReceiver({
    answer: (d) => {
      received.push({ app: d.app, id: String(d.headers['webhook-id']) });
      return faultFor(d);
    },
  });
  const downReceiver = await startReceiver({
    answer: (d) => {
      received.push({ app: d.app, id: String(d.headers['webhook-id']) });
      if (Date.now() >= outage.from && Date.now() < outage.to) {
        injected.outage++;
        return 'close';
      }
      return 200;
    },
  });
  const receivers = [receiver, downReceiver];
  try {
    // ---- tenants ---------------------------------------------------------------------------------
    log(`setting up ${APPS} apps x ${USERS} users`);
    const tenants = [];
    for (let a = 0; a < APPS; a++) {
      const app = await api.activeApp(`chaos-${a}`, { provisioned_subscriptions: USERS });
      for (const r of receivers) r.trustApp(app.name, app.consumerSecret);
      // Apps 0-3 share one URL; app 4 uses the receiver that will be down; the rest get a fault each.
      const kind = a < 4 ? 'shared' : FAULTS[a % FAULTS.length];
      const target = a === 4 ? downReceiver : receiver;
      const url = target.url(a < 4 ? '/r/shared/hook' : `/r/${kind}/${a}`);
      const hook = await api.registerWebhook(app, url);
      target.trustWebhook(hook.id, app.name, hook.signing_secret);
      // Overlapping subscriptions: each user is in about a tenth of the apps.
      const users = Array.from({ length: USERS }, (_, u) => String(1000 + u)).filter((u) => (Number(u) * 7 + a * 13) % 10 === 0);
      let next = 0;
      await Promise.all(
        Array.from({ length: 6 }, async () => {
          while (next < users.length) await api.subscribe(app, hook.id, users[next++], SCOPES);
        }),
      );
      tenants.push({ app, hook, users: new Set(users), target });
    }
    const byName = new Map(tenants.map((t) => [t.app.name, t]));
    const xaaSubscriptions = await subscribeXaa(api, tenants, USERS);
    /** @type {any[]} */
    const streamLines = [];
    const streamReader = tenants[STREAM_APP]
      ? readStream(
          () => service.baseUrl,
          tenants[STREAM_APP].app.bearer,
          (l) => streamLines.push(l),
        )
      : null;
    log(`${xaaSubscriptions.length} XAA subscriptions; app chaos-${STREAM_APP} reads its stream`);

    // ---- activities: per stream, in order ------------------------------------------------------------
    const user = (u) => ({ id: String(1000 + u), name: `user ${u}`, screen_name: `u${u}` });
    /** @type {{ g: number, activity: any }[][]} */
    const streams = Array.from({ length: STREAMS }, () => []);
    for (let g = 0; g < ACTIVITIES; g++) {
      const stream = g % STREAMS;
      const pick = () => stream + STREAMS * Math.floor(Math.random() * Math.floor(USERS / STREAMS));
      const u = pick();
      let v = pick();
      if (v === u) v = (u + STREAMS) % (STREAMS * Math.floor(USERS / STREAMS));
      const tag = `seq-${g}`;
      const roll = g % 10;
      const activity =
        roll < 6
          ? { id: `c${g}`, type: 'tweet_create', tweet: { id: String(g + 1), text: tag, author: user(u) } }
          : roll < 8
            ? { id: `c${g}`, type: 'direct_message', message: { id: String(g + 1), sender: user(u), recipient: user(v), text: tag } }
            : { id: `c${g}`, type: 'follow', source: { ...user(u), name: tag }, target: { ...user(v), name: tag } };
      streams[stream].push({ g, activity });
    }
    const expected = new Map(); // key app|webhook|user|g -> true
    const sentAt = new Map();
    for (const stream of streams) {
      for (const { g, activity } of stream) {
        for (const who of new Set(concerns(activity))) {
          for (const t of tenants) {
            if (t.users.has(who) && SCOPES.includes(SCOPE[activity.type])) expected.set(`${t.app.name}|${t.hook.id}|${who}|${g}`, true);
          }
        }
      }
    }
    const xaaWorld = { subscriptions: xaaSubscriptions, activities: streams.flat(), tenants, scopes: SCOPES };
    const firstXaaCopies = () => {
      const seen = new Set();
      return [...receiver.deliveries, ...downReceiver.deliveries].filter((d) => {
        if (!isXaaEnvelope(d.json) || seen.has(d.headers['webhook-id'])) return false;
        seen.add(d.headers['webhook-id']);
        return true;
      });
    };
    const xaaNow = () => xaaVerdicts(xaaWorld, firstXaaCopies(), streamLines);
    const xaaExpected = xaaNow();
    log(
      `${ACTIVITIES} activities, ${expected.size} AAA deliveries expected; XAA: ${xaaExpected.expectedWebhook} on webhooks, ${xaaExpected.expectedStream} on the stream`,
    );

    // ---- the run ------------------------------------------------------------------------------------
    let ingested = 0;
    let restarting = null;
    let killed = false;
    let ingestErrors = 0;
    const killAt = Math.floor(ACTIVITIES * 0.4);
    const ingestStream = async (stream) => {
      for (let i = 0; i < stream.length; i += 50) {
        const chunk = stream.slice(i, i + 50);
        for (let tries = 0; ; tries++) {
          if (restarting) await restarting;
          const t0 = Date.now();
          try {
            await api.ingest(chunk.map((c) => c.activity));
            for (const c of chunk) if (!sentAt.has(c.g)) sentAt.set(c.g, t0);
            break;
          } catch (err) {
            // The service is down or restarting: post the same activities again (ingest is idempotent).
            if (ingestErrors++ < 5) log(`ingest failed (will post again): ${String(/** @type {Error} */ (err).message).slice(0, 200)}`);
            if (tries > 200) throw err;
            await sleep(250);
          }
        }
        ingested += chunk.length;
        if (ingested >= killAt && !killed) {
          killed = true;
          restarting = (async () => {
            log('SIGKILL the service');
            await service.kill();
            await sleep(1000);
            service = await startServiceProcess({ stateDir, port, vars: VARS, platformToken });
            log('service restarted on the same state');
          })();
          await restarting;
          restarting = null;
        }
      }
    };
    const ingestStart = Date.now();
    outage = { from: ingestStart + 5_000, to: ingestStart + 5_000 + OUTAGE_MS };
    log(`ingesting; receiver of app chaos-4 down from +5s for ${OUTAGE_MS / 1000}s`);
    // Webhooks that answered 410 are invalid; re-validate them (their held events then flow).
    const revalidator = setInterval(async () => {
      for (const t of tenants) {
        if (goneOnce.has(t.hook.id) && !t.revalidated) {
          t.revalidated = true;
          await sleep(2000);
          const res = await api.call('PUT', `/2/webhooks/${t.hook.id}`, { token: t.app.bearer }).catch(() => ({ status: 0 }));
          if (res.status !== 200) t.revalidated = false;
          else log(`re-validated ${t.app.name} after its 410`);
        }
      }
    }, 1000);
    await Promise.all(streams.map(ingestStream));
    const ingestSeconds = (Date.now() - ingestStart) / 1000;
    log(`ingested in ${ingestSeconds.toFixed(1)}s; waiting for deliveries to finish`);

    // ---- drain ----------------------------------------------------------------------------------
    const acked = () => [...receiver.deliveries, ...downReceiver.deliveries];
    const keyOf = (d) => {
      const g = Number(/seq-(\d+)/.exec(d.body)?.[1]);
      return `${d.app}|${d.webhookId}|${d.json?.for_user_id}|${g}`;
    };
    const xaaMissing = () => {
      const x = xaaNow();
      return x.lostWebhook + x.lostStream;
    };
    let lastCount = -1;
    let stableSince = Date.now();
    let lastReport = 0;
    while (Date.now() - started < TIME_LIMIT_MS - 20_000) {
      const got = new Set(acked().map(keyOf));
      const missing = [...expected.keys()].filter((k) => !got.has(k)).length + xaaMissing();
      if (Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        const total = expected.size + xaaExpected.expectedWebhook + xaaExpected.expectedStream;
        log(`${total - missing}/${total} delivered (AAA and XAA, webhooks and stream)`);
      }
      if (missing === 0 && Date.now() > outage.to) break;
      if (got.size !== lastCount) {
        lastCount = got.size;
        stableSince = Date.now();
      }
      if (Date.now() > outage.to && Date.now() - stableSince > 90_000) break; // nothing more is coming
      await sleep(1000);
    }
    clearInterval(revalidator);
    await streamReader?.stop();

    // ---- verdicts ---------------------------------------------------------------------------------
    const deliveries = acked();
    const problems = [...receiver.problems, ...downReceiver.problems];
    const seenIds = new Map();
    const delivered = new Set();
    let duplicates = 0;
    let crossTenant = 0;
    let outOfOrder = 0;
    const lanes = new Map();
    const latencies = [];
    let first = Infinity;
    let last = 0;
    for (const d of [...deliveries].sort((x, y) => x.at - y.at)) {
      const id = d.headers['webhook-id'];
      seenIds.set(id, (seenIds.get(id) ?? 0) + 1);
      if (seenIds.get(id) > 1) {
        duplicates++;
        continue;
      }
      // An XAA envelope shares its lane with AAA's: the same webhook and (filter) user, one order.
      if (isXaaEnvelope(d.json)) {
        const g = Number(/seq-(\d+)/.exec(d.body)?.[1]);
        const lane = `${d.webhookId}|${d.json.data.filter.user_id}`;
        if ((lanes.get(lane) ?? -1) > g) outOfOrder++;
        lanes.set(lane, Math.max(lanes.get(lane) ?? -1, g));
        continue;
      }
      const key = keyOf(d);
      const tenant = d.app === null ? undefined : byName.get(d.app);
      const [, , forUser, gText] = key.split('|');
      if (!tenant || tenant.hook.id !== d.webhookId || !expected.has(key)) {
        crossTenant++;
        continue;
      }
      delivered.add(key);
      const g = Number(gText);
      const lane = `${d.webhookId}|${forUser}`;
      if ((lanes.get(lane) ?? -1) > g) outOfOrder++;
      lanes.set(lane, Math.max(lanes.get(lane) ?? -1, g));
      latencies.push(d.at - sentAt.get(g));
      first = Math.min(first, sentAt.get(g));
      last = Math.max(last, d.at);
    }
    const lost = [...expected.keys()].filter((k) => !delivered.has(k));
    const xaa = {
      ...xaaNow(),
      streamConnections: streamReader?.state.connections ?? 0,
      streamReasons: streamReader?.state.reasons.length ?? 0,
    };
    latencies.sort((x, y) => x - y);
    const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null;
    // The audit, page by page.
    const audit = { checked: 0, violations: 0, pages: 0 };
    for (let cursor = ''; ; ) {
      const page = await api.platform(
        'GET',
        `/internal/audit/verify?from=${started - 60_000}&to=${Date.now() + 1}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      if (page.status !== 200) throw new Error(`audit: HTTP ${page.status} ${page.text}`);
      audit.checked += page.body.data.checked;
      audit.violations += page.body.data.violations.length;
      audit.pages++;
      cursor = page.body.meta?.next_cursor ?? '';
      if (!cursor) break;
    }
    // Recorded before it acts: every request any receiver got is on its app's ledger.
    const onLedger = new Set();
    for (const t of tenants) {
      for (let token = ''; ; ) {
        const page = await api.platform(
          'GET',
          `/internal/apps/${t.app.id}/deliveries?max_results=500${token ? `&pagination_token=${token}` : ''}`,
        );
        for (const e of page.body.data) if (e.destination) onLedger.add(`${t.app.name}|${e.delivery_id}`);
        token = page.body.meta?.next_token ?? '';
        if (!token) break;
      }
    }
    const missingFromLedger = received.filter((r) => !onLedger.has(`${r.app}|${r.id}`)).length;
    const result = {
      apps: APPS,
      users: USERS,
      activities: ACTIVITIES,
      expected: expected.size,
      delivered: delivered.size,
      lost: lost.length,
      duplicated: duplicates,
      crossTenant,
      outOfOrder,
      badSignatures: problems.filter((p) => p.kind === 'bad signature').length,
      otherReceiverProblems: problems.filter((p) => p.kind !== 'bad signature').length,
      faultsInjected: { ...injected, killRestart: 1 },
      ingestSeconds: Number(ingestSeconds.toFixed(1)),
      deliveriesPerSecond: Math.round(delivered.size / ((last - first) / 1000)),
      p50Ms: pct(50),
      p99Ms: pct(99),
      audit,
      requestsReceived: received.length,
      attemptsMissingFromLedger: missingFromLedger,
      xaa,
      lostSample: lost.slice(0, 10),
    };
    console.log('\n| verdict | value |\n|---|---|');
    for (const [k, v] of Object.entries(result))
      if (k !== 'lostSample') console.log(`| ${k} | ${typeof v === 'object' ? JSON.stringify(v) : v} |`);
    mkdirSync(join(ROOT, '.bench'), { recursive: true });
    writeFileSync(join(ROOT, '.bench', 'chaos.json'), JSON.stringify(result, null, 2));
    console.log('\nJSON: .bench/chaos.json');
    const failed =
      result.lost > 0 ||
      xaa.lostWebhook > 0 ||
      xaa.lostStream > 0 ||
      xaa.crossTenant > 0 ||
      result.crossTenant > 0 ||
      result.outOfOrder > 0 ||
      result.badSignatures > 0 ||
      result.audit.violations > 0 ||
      result.attemptsMissingFromLedger > 0;
    if (failed) {
      console.error(
        `chaos: FAILED (lost ${result.lost}, XAA lost ${xaa.lostWebhook} on webhooks and ${xaa.lostStream} on the stream, XAA cross-tenant ${xaa.crossTenant}, cross-tenant ${result.crossTenant}, out of order ${result.outOfOrder}, bad signatures ${result.badSignatures}, audit violations ${result.audit.violations}, attempts missing from the ledger ${result.attemptsMissingFromLedger})`,
      );
      process.exitCode = 1;
    }
  } finally {
    await service.stop();
    for (const r of receivers) await r.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => setTimeout(() => process.exit(process.exitCode ?? 0), 100));
