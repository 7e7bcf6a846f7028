import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { activeApp, grantUser, registerWebhook, subscribe, type TestApp } from './support/apps';
import { PLATFORM_TOKEN } from './support/http';
import { installReceivers, receiverUrl } from './support/receivers';

/**
 * Hostile input, property-based: every generated request carries at least one defect by construction
 * (missing or wrong credentials, another tenant's id, a malformed id, a body that is broken, mistyped,
 * too deep, too long or not UTF-8). Whatever the mix, the answer must be a 4xx problem body (never a
 * 5xx) and nothing may change, in D1 or in the victim app's object.
 */
let victim: TestApp;
let attacker: TestApp;
let victimHook: string;
let victimUserToken: string;
let attackerUserToken: string;

beforeAll(async () => {
  const receivers = installReceivers();
  victim = await activeApp({ name: 'victim', max_webhooks: 100 });
  attacker = await activeApp({ name: 'attacker', max_webhooks: 100 });
  const victimUrl = receiverUrl();
  receivers.set(victimUrl, victim.consumerSecret);
  victimHook = (await registerWebhook(victim, victimUrl)).id;
  victimUserToken = await subscribe(victim, victimHook, '1');
  attackerUserToken = await grantUser(attacker.id, '1');
});

async function snapshot() {
  const tables = ['apps', 'app_tokens', 'authorizations', 'webhooks', 'subscriptions', 'activities', 'app_status_history'];
  const d1 = await env.DB.batch(
    tables.map((t) => env.DB.prepare(`SELECT count(*) AS n, total(length(CAST(rowid AS TEXT))) AS r FROM ${t}`)),
  );
  const rows = await env.DB.batch([
    env.DB.prepare('SELECT id, status, consumer_secret_hash FROM apps ORDER BY id'),
    env.DB.prepare('SELECT id, valid, deleted_at, last_crc_at FROM webhooks ORDER BY id'),
    env.DB.prepare('SELECT id, ended_at FROM subscriptions ORDER BY id'),
    env.DB.prepare('SELECT id, ended_at FROM authorizations ORDER BY id'),
    env.DB.prepare('SELECT token_hash, revoked_at FROM app_tokens ORDER BY token_hash'),
  ]);
  const object = await runInDurableObject(appObject(env, victim.id), (_o, s) =>
    ['webhooks', 'subscriptions', 'authorizations', 'messages', 'outbox', 'ledger', 'replay_jobs', 'replay_parts', 'tenant'].map((t) =>
      s.storage.sql.exec(`SELECT * FROM ${t}`).toArray(),
    ),
  );
  return JSON.stringify({ d1: d1.map((r) => r.results), rows: rows.map((r) => r.results), object });
}

type Auth = 'none' | 'garbage' | 'platform' | 'victim' | 'attacker' | 'attacker-user' | 'victim-user';
const token = (auth: Auth) =>
  ({
    none: undefined,
    garbage: 'aae_at_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    platform: PLATFORM_TOKEN,
    victim: victim.bearer,
    attacker: attacker.bearer,
    'attacker-user': attackerUserToken,
    'victim-user': victimUserToken,
  })[auth];

/** Bodies that are wrong whatever the endpoint: each one breaks a rule checked before any schema. */
const brokenBody = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40 }).map((s) => ({ raw: `{${s}`, type: 'application/json' })),
  fc
    .jsonValue()
    .map((v) => ({ raw: JSON.stringify(v) ?? 'null', type: 'text/plain' }))
    .filter((b) => b.raw.trim() !== ''),
  fc
    .integer({ min: 33, max: 200 })
    .map((depth) => ({ raw: `{"name":"x","a":${'['.repeat(depth)}${']'.repeat(depth)}}`, type: 'application/json' })),
  fc.integer({ min: 65_537, max: 70_000 }).map((n) => ({ raw: JSON.stringify({ name: 'x'.repeat(n) }), type: 'application/json' })),
  fc
    .constantFrom([0xc3, 0x28], [0xff, 0xfe, 0x7b], [0xed, 0xa0, 0x80])
    .map((bytes) => ({ raw: new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, ...bytes, 0x22, 0x7d]), type: 'application/json' })),
  fc.integer({ min: 65 * 1024, max: 80 * 1024 }).map((n) => ({ raw: `{"pad":"${'p'.repeat(n)}"}`, type: 'application/json' })),
);

/** Valid-looking bodies with a required field of the wrong type. */
const mistyped = (field: string, base: Record<string, unknown>) =>
  fc.oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string()), fc.dictionary(fc.string(), fc.string())).map((bad) => ({
    raw: JSON.stringify({ ...base, [field]: bad }),
    type: 'application/json',
  }));

const otherIds = fc.oneof(fc.constant('1234567890123'), fc.bigInt({ min: 1n, max: 9_999_999_999_999_999_999n }).map(String));
const badIds = fc.oneof(
  fc.constantFrom('abc', '-1', '1e5', '٣', '%00', '12345678901234567890'),
  fc.string({ minLength: 1, maxLength: 10 }).filter((s) => !/^\d{1,19}$/.test(s) && !/[/?#%]/.test(s)),
);

interface Case {
  method: string;
  path: string;
  auth: Auth;
  body?: { raw: string | Uint8Array; type: string };
}

/** Each arbitrary is a family of requests that must fail, with why in a comment. */
const cases: fc.Arbitrary<Case>[] = [
  // Developer endpoints with no or bad credentials.
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: fc.constantFrom(
      '/2/webhooks',
      `/2/account_activity/webhooks/${victimHookRef()}/subscriptions/all`,
      '/2/account_activity/subscriptions/count',
    ),
    auth: fc.constantFrom<Auth>('none', 'garbage', 'platform'),
  }),
  // Another tenant's webhook, every verb that names one.
  fc.record({
    method: fc.constant('PUT'),
    path: fc.constant('/2/webhooks/{victimHook}'),
    auth: fc.constantFrom<Auth>('attacker', 'attacker-user'),
  }),
  fc.record({
    method: fc.constantFrom('DELETE', 'POST'),
    path: fc.constantFrom(
      '/2/webhooks/{victimHook}',
      '/2/webhooks/{victimHook}/rotate-secret',
      '/2/account_activity/webhooks/{victimHook}/subscriptions/1/all',
      '/2/account_activity/replay/webhooks/{victimHook}/subscriptions/all?from_date=202601010000&to_date=202601010100',
    ),
    auth: fc.constant<Auth>('attacker'),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: fc.constantFrom(
      '/2/account_activity/webhooks/{victimHook}/subscriptions/all',
      '/2/account_activity/webhooks/{victimHook}/subscriptions/all/list',
      '/2/account_activity/webhooks/{victimHook}/deliveries',
    ),
    auth: fc.constantFrom<Auth>('attacker', 'attacker-user'),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/2/webhooks/replay'),
    auth: fc.constant<Auth>('attacker'),
    body: fc.constant({
      raw: '{"webhook_id":"{victimHook}","from_date":"202601010000","to_date":"202601010100"}',
      type: 'application/json',
    }),
  }),
  // Unknown and malformed ids.
  fc.record({
    method: fc.constantFrom('PUT', 'DELETE'),
    path: otherIds.map((id) => `/2/webhooks/${id}`),
    auth: fc.constant<Auth>('victim'),
  }),
  fc.record({
    method: fc.constantFrom('PUT', 'DELETE'),
    path: badIds.map((id) => `/2/webhooks/${encodeURIComponent(id)}`),
    auth: fc.constant<Auth>('victim'),
  }),
  fc.record({
    method: fc.constantFrom('GET', 'POST'),
    path: badIds.map((id) => `/internal/apps/${encodeURIComponent(id)}/approve`),
    auth: fc.constant<Auth>('platform'),
  }),
  // Broken bodies on every body-taking endpoint, with credentials that would otherwise pass.
  fc
    .record({
      method: fc.constant('POST'),
      path: fc.constantFrom(
        '/internal/apps',
        '/internal/authorizations',
        '/internal/activity',
        '/2/webhooks',
        '/2/account_activity/webhooks/{victimHook}/subscriptions/all',
        '/internal/apps/{victim}/suspend',
        '/2/webhooks/replay',
      ),
      auth: fc.constant<Auth>('platform'),
      body: brokenBody,
    })
    .map((c) => ({
      ...c,
      auth: (c.path.startsWith('/internal') ? 'platform' : c.path.includes('subscriptions/all') ? 'victim-user' : 'victim') as Auth,
    })),
  // Mistyped required fields.
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/internal/apps'),
    auth: fc.constant<Auth>('platform'),
    body: mistyped('name', { name: 'x' }),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/internal/authorizations'),
    auth: fc.constant<Auth>('platform'),
    body: fc
      .constantFrom('app_id', 'user_id', 'scopes')
      .chain((f) => mistyped(f, { app_id: '{victim}', user_id: '9', scopes: ['tweet.read'] })),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/2/webhooks'),
    auth: fc.constant<Auth>('victim'),
    body: mistyped('url', { url: receiverUrl() }),
  }),
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/internal/activity'),
    auth: fc.constant<Auth>('platform'),
    body: fc
      .constantFrom('id', 'type', 'tweet')
      .chain((f) =>
        mistyped(f, { id: 'fz', type: 'tweet_create', tweet: { id: '1', text: 'x', author: { id: '1', name: 'n', screen_name: 's' } } }),
      ),
  }),
  // The platform surface without the platform token.
  fc.record({
    method: fc.constantFrom('GET', 'POST', 'DELETE'),
    path: fc.constantFrom(
      '/internal/apps/{victim}',
      '/internal/apps/{victim}/suspend',
      '/internal/apps/{victim}/rotate-secret',
      '/internal/authorizations/{victim}/1',
      '/internal/activity',
      '/internal/audit/verify',
      '/internal/users/1/access',
    ),
    auth: fc.constantFrom<Auth>('none', 'garbage', 'victim', 'victim-user'),
  }),
];

function victimHookRef() {
  return '{victimHook}';
}

async function send(c: Case) {
  const fill = (s: string) => s.replaceAll('{victimHook}', victimHook).replaceAll('{victim}', victim.id);
  const headers: Record<string, string> = {};
  const t = token(c.auth);
  if (t) headers.authorization = `Bearer ${t}`;
  let body: BodyInit | undefined;
  if (c.body) {
    headers['content-type'] = c.body.type;
    body = typeof c.body.raw === 'string' ? fill(c.body.raw) : c.body.raw;
  }
  return exports.default.fetch(`http://127.0.0.1:8787${fill(c.path)}`, { method: c.method, headers, body });
}

describe('hostile input', () => {
  it('every defective request gets a 4xx problem and changes nothing', async () => {
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.oneof(...cases), async (c) => {
        const res = await send(c);
        const text = await res.text();
        expect(res.status, `${c.method} ${c.path} → ${res.status} ${text.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.status, `${c.method} ${c.path} → ${res.status} ${text.slice(0, 200)}`).toBeLessThan(500);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        const problem = JSON.parse(text);
        expect(problem).toMatchObject({
          status: res.status,
          type: expect.any(String),
          title: expect.any(String),
          detail: expect.any(String),
        });
        expect(text).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
      }),
      { numRuns: 400, seed: 20261123 },
    );
    expect(await snapshot()).toBe(before);
  }, 120_000);
});
