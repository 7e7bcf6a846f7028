// The X Activity API's part of `npm run chaos`: XAA subscriptions (public and private, a keyword, on
// the apps' webhooks, which also carry their AAA subscriptions, and on the stream only) and one stream
// reader that reconnects with backfill after the service is killed. What arrived is judged by the XAA
// oracle written from the contract (test/e2e/xaa-oracle.mjs), not by the service's code.
import { sleep } from '../scripts/lib/service.mjs';
import { expectedXaa } from '../test/e2e/xaa-oracle.mjs';

/** Apps that also hold XAA subscriptions (0 and 1 share their URL with 2 and 3); app 1 also reads its stream. */
export const XAA_APPS = [0, 1, 5, 8, 9];
export const STREAM_APP = 1;
const PER_KIND = 8;

/** Whether a delivery's body is an XAA envelope (AAA payloads have no top-level `data`). */
export const isXaaEnvelope = (/** @type {any} */ json) => typeof json?.data?.event_uuid === 'string';

/**
 * Subscribes the XAA apps: `post.create` for users who never authorized them (public), `dm.received`
 * and `follow.follow` for users who did (private), and a keyword subscription; on the app's webhook,
 * and for the stream app a few more on the stream only. Returns the subscriptions as the oracle reads
 * them ({ app, id, tag, type, user, keyword?, webhook }).
 * @param {import('../scripts/lib/client.mjs').Client} api
 * @param {{ app: any, hook: any, users: Set<string> }[]} tenants
 * @param {number} users how many users the run has (ids 1000…)
 */
export async function subscribeXaa(api, tenants, users) {
  const subscriptions = [];
  for (const a of XAA_APPS) {
    const t = tenants[a];
    if (!t) continue;
    const authorized = [...t.users].slice(0, PER_KIND);
    const strangers = Array.from({ length: PER_KIND }, (_, k) => String(1000 + ((a * 17 + k * 23) % users))).filter((u) => !t.users.has(u));
    const plan = [
      ...strangers.map((user) => ({ type: 'post.create', user, webhook: t.hook.id })),
      ...authorized.map((user) => ({ type: 'dm.received', user, webhook: t.hook.id })),
      ...authorized.map((user) => ({ type: 'follow.follow', user, webhook: t.hook.id })),
      { type: 'post.create', user: authorized[0], keyword: 'SEQ-7', webhook: t.hook.id },
    ];
    if (a === STREAM_APP) plan.push(...authorized.map((user) => ({ type: 'post.create', user, webhook: null })));
    for (const [i, p] of [...new Set(plan.map((p) => JSON.stringify(p)))].map((j) => JSON.parse(j)).entries()) {
      const tag = `${t.app.name}/${i}`;
      const body = {
        event_type: p.type,
        filter: { user_id: p.user, ...(p.keyword ? { keyword: p.keyword } : {}) },
        tag,
        ...(p.webhook ? { webhook_id: p.webhook } : {}),
      };
      const res = await api.call('POST', '/2/activity/subscriptions', { token: t.app.bearer, body });
      if (res.status !== 200) throw new Error(`XAA subscription ${JSON.stringify(body)}: HTTP ${res.status} ${res.text}`);
      subscriptions.push({ app: t.app.name, id: res.body.data.subscription.subscription_id, tag, ...p });
    }
  }
  return subscriptions;
}

/**
 * Reads an app's stream until stopped, reconnecting (with 5 minutes of backfill, so nothing said while
 * it was away is missed) whenever the connection ends: the service is killed mid-run.
 * @param {() => string} baseUrl @param {string} bearer @param {(line: any) => void} onLine
 */
export function readStream(baseUrl, bearer, onLine) {
  const state = { stopped: false, connections: 0, reasons: /** @type {any[]} */ ([]), controller: new AbortController() };
  const run = async () => {
    while (!state.stopped) {
      try {
        const query = state.connections++ > 0 ? '?backfill_minutes=5' : '';
        const res = await fetch(`${baseUrl()}/2/activity/stream${query}`, {
          headers: { authorization: `Bearer ${bearer}` },
          signal: state.controller.signal,
        });
        if (res.status !== 200 || !res.body) throw new Error(`stream: HTTP ${res.status}`);
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let end = buffer.indexOf('\r\n'); end !== -1; end = buffer.indexOf('\r\n')) {
            const line = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (!line) continue;
            const json = JSON.parse(line);
            if (json.errors) state.reasons.push(json.errors[0]);
            else onLine(json);
          }
        }
      } catch {
        // the service went away (or the reader was stopped): connect again below
      }
      if (!state.stopped) await sleep(500);
    }
  };
  const done = run();
  return {
    state,
    stop: async () => {
      state.stopped = true;
      state.controller.abort();
      await done;
    },
  };
}

/**
 * The XAA verdicts. `webhook`: XAA envelopes the receivers acknowledged (first copy of each
 * webhook-id); `stream`: lines the stream reader got. Each is keyed app|subscription|g by the
 * envelope's tag and the `seq-<g>` its payload carries.
 * @param {{ subscriptions: any[], activities: { g: number, activity: any }[], tenants: { app: any, users: Set<string> }[], scopes: string[] }} world
 * @param {{ app: string | null, webhookId: string | null, json: any, body: string }[]} webhook
 * @param {any[]} stream
 */
export function xaaVerdicts(world, webhook, stream) {
  const authorizations = Object.fromEntries(
    world.tenants.map((t) => [t.app.name, Object.fromEntries([...t.users].map((u) => [u, world.scopes]))]),
  );
  const activities = world.activities.map(({ g, activity }) => ({ ...activity, id: String(g) }));
  const expected = expectedXaa(activities, world.subscriptions, authorizations);
  const byTag = new Map(world.subscriptions.map((s) => [s.tag, s]));
  const keyOf = (/** @type {string} */ app, /** @type {any} */ json, /** @type {string} */ body) => {
    const sub = byTag.get(json.data.tag);
    const g = /seq-(\d+)/.exec(body)?.[1];
    return sub && sub.app === app && g !== undefined ? `${app}|${sub.id}|${g}` : null;
  };
  const expectedWebhook = new Set([...expected].filter((k) => world.subscriptions.find((s) => s.id === k.split('|')[1])?.webhook));
  const expectedStream = new Set([...expected].filter((k) => k.startsWith(`chaos-${STREAM_APP}|`)));

  let crossTenant = 0;
  const deliveredWebhook = new Set();
  for (const d of webhook) {
    const key = d.app === null ? null : keyOf(d.app, d.json, d.body);
    const sub = byTag.get(d.json.data.tag);
    if (!key || !expectedWebhook.has(key) || sub?.webhook !== d.webhookId) crossTenant++;
    else deliveredWebhook.add(key);
  }
  const streamUuids = new Set();
  const deliveredStream = new Set();
  let streamDuplicates = 0;
  for (const line of stream) {
    if (streamUuids.has(line.data.event_uuid)) {
      streamDuplicates++; // a backfill after reconnecting repeats lines already read: expected, and told apart by event_uuid
      continue;
    }
    streamUuids.add(line.data.event_uuid);
    const key = keyOf(`chaos-${STREAM_APP}`, line, JSON.stringify(line));
    if (!key || !expectedStream.has(key)) crossTenant++;
    else deliveredStream.add(key);
  }
  return {
    subscriptions: world.subscriptions.length,
    expectedWebhook: expectedWebhook.size,
    deliveredWebhook: deliveredWebhook.size,
    lostWebhook: [...expectedWebhook].filter((k) => !deliveredWebhook.has(k)).length,
    expectedStream: expectedStream.size,
    deliveredStream: deliveredStream.size,
    lostStream: [...expectedStream].filter((k) => !deliveredStream.has(k)).length,
    streamLinesRepeatedByBackfill: streamDuplicates,
    crossTenant,
  };
}
