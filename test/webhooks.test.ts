import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { crcRequestSignature } from '../src/domain/crc';
import { activeApp, createApp, grantUser, issueBearer, registerWebhook, type TestApp } from './support/apps';
import { call, expectProblem, platform } from './support/http';
import { installReceivers, receiverUrl } from './support/receivers';

let receivers: ReturnType<typeof installReceivers>;
let app: TestApp;
const URL_A = receiverUrl('/webhooks/x');

beforeEach(async () => {
  receivers = installReceivers();
  app = await activeApp();
  receivers.set(URL_A, app.consumerSecret);
});

// Storage is shared by the tests of one file, so counts are scoped to this test's app.
const liveWebhooks = async () =>
  (await env.DB.prepare('SELECT count(*) AS n FROM webhooks WHERE app_id = ? AND deleted_at IS NULL').bind(app.id).first<{ n: number }>())!
    .n;

describe('POST /2/webhooks', () => {
  it('runs a signed CRC and registers the webhook', async () => {
    const res = await call('POST', '/2/webhooks', { token: app.bearer, body: { url: URL_A } });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ url: URL_A, valid: true });
    expect(res.body.data.id).toMatch(/^[0-9]{1,19}$/);
    expect(res.body.data.signing_secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);

    const crc = receivers.seen.find((r) => r.url.searchParams.has('crc_token'))!;
    expect(crc.method).toBe('GET');
    const token = crc.url.searchParams.get('crc_token')!;
    const nonce = crc.url.searchParams.get('nonce')!;
    expect(token.length).toBeGreaterThan(16);
    expect(nonce.length).toBeGreaterThan(8);
    expect(crc.headers.get('x-twitter-webhooks-signature')).toBe(await crcRequestSignature(app.consumerSecret, token, nonce));
  });

  it('uses a fresh token and nonce for every CRC', async () => {
    const { id } = await registerWebhook(app, URL_A);
    await call('PUT', `/2/webhooks/${id}`, { token: app.bearer });
    const crcs = receivers.seen.filter((r) => r.url.searchParams.has('crc_token'));
    expect(crcs).toHaveLength(2);
    expect(crcs[0].url.searchParams.get('crc_token')).not.toBe(crcs[1].url.searchParams.get('crc_token'));
    expect(crcs[0].url.searchParams.get('nonce')).not.toBe(crcs[1].url.searchParams.get('nonce'));
  });

  it.each(['wrong-token', 'non-json', 'redirect', 'server-error', 'timeout', 'refuse'] as const)(
    'saves nothing when the CRC fails (%s)',
    async (behaviour) => {
      receivers.behave(URL_A, behaviour);
      const res = await call('POST', '/2/webhooks', { token: app.bearer, body: { url: URL_A } });
      expectProblem(res, 400, 'CrcValidationFailed');
      expect(await liveWebhooks()).toBe(0);
    },
  );

  it('never follows a redirect', async () => {
    receivers.behave(URL_A, 'redirect');
    await call('POST', '/2/webhooks', { token: app.bearer, body: { url: URL_A } });
    expect(receivers.seen.every((r) => r.url.host === new URL(URL_A).host)).toBe(true);
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, 'UrlValidationFailed'],
    [{ url: 'not a url' }, 'UrlValidationFailed'],
    [{ url: `${new URL(URL_A).origin}/${'a'.repeat(200)}` }, 'UrlValidationFailed'],
    [{ url: 5 }, undefined],
    [{}, undefined],
  ])('rejects %j before any CRC', async (body, reason) => {
    const res = await call('POST', '/2/webhooks', { token: app.bearer, body });
    const problem = expectProblem(res, 400, reason);
    expect(problem.errors[0].parameter).toBe('url');
    expect(receivers.seen).toHaveLength(0);
  });

  it('rejects a duplicate URL within one app', async () => {
    await registerWebhook(app, URL_A);
    expectProblem(await call('POST', '/2/webhooks', { token: app.bearer, body: { url: URL_A } }), 409, 'DuplicateUrlFailed');
    // Spelling variants normalize to the same URL.
    const variant = URL_A.replace('/webhooks/x', '/webhooks/../webhooks/x');
    expectProblem(await call('POST', '/2/webhooks', { token: app.bearer, body: { url: variant } }), 409, 'DuplicateUrlFailed');
  });

  it('lets two apps register the same URL, each with its own secret', async () => {
    const other = await activeApp();
    const a = await registerWebhook(app, URL_A);
    // The receiver answers with the other app's secret when that app's CRC comes in.
    receivers.set(URL_A, other.consumerSecret);
    const b = await registerWebhook(other, URL_A);
    expect(a.id).not.toBe(b.id);
    expect(a.signing_secret).not.toBe(b.signing_secret);
    const listA = await call('GET', '/2/webhooks', { token: app.bearer });
    expect(listA.body.data.map((w: { id: string }) => w.id)).toEqual([a.id]);
  });

  it('enforces the app webhook limit', async () => {
    const small = await activeApp({ max_webhooks: 1 });
    const [first, second] = [receiverUrl(), receiverUrl()];
    receivers.set(first, small.consumerSecret);
    receivers.set(second, small.consumerSecret);
    await registerWebhook(small, first);
    const res = await call('POST', '/2/webhooks', { token: small.bearer, body: { url: second } });
    expectProblem(res, 403, 'WebhookLimitExceeded');
  });

  it('needs an active app and a token', async () => {
    expectProblem(await call('POST', '/2/webhooks', { body: { url: URL_A } }), 401);
    expectProblem(await call('POST', '/2/webhooks', { token: 'aae_at_nope', body: { url: URL_A } }), 401);
    // A suspended app: its bearer tokens were revoked (401), its users' tokens are refused (403).
    const suspended = await createApp();
    await platform('POST', `/internal/apps/${suspended.id}/approve`);
    const token = await issueBearer(suspended);
    const userToken = await grantUser(suspended.id, '77');
    await platform('POST', `/internal/apps/${suspended.id}/suspend`, { reason: 'x' });
    expectProblem(await call('GET', '/2/webhooks', { token }), 401);
    expectProblem(await call('GET', '/2/webhooks', { token: userToken }), 403, 'AppNotActive');
  });
});

describe('CRC failures say what to fix', () => {
  const register = (url = URL_A) => call('POST', '/2/webhooks', { token: app.bearer, body: { url } });

  it.each([
    ['refuse', 'nothing is listening at', 'Start the receiver'],
    ['unknown-host', 'could not be resolved (DNS lookup failed)', 'public DNS record'],
    ['timeout', 'no answer within 10000 ms', 'must answer the CRC within 10000 ms'],
    ['redirect', 'redirected (HTTP 302 to https://elsewhere.example/)', 'Register the final URL'],
    ['not-found', 'no handler at this path (HTTP 404)', '/webhooks/x'],
    ['server-error', 'the receiver failed (HTTP 503)', "receiver's logs"],
    ['non-json', 'not JSON (content-type text/html', 'application/json'],
    ['no-token', 'no string response_token', '{"response_token": "sha256='],
    ['wrong-token', 'response_token does not match', 'another consumer secret'],
  ] as const)('%s: POST names the URL, the cause and the fix, and saves nothing', async (behaviour, cause, fix) => {
    receivers.behave(URL_A, behaviour);
    const problem = expectProblem(await register(), 400, 'CrcValidationFailed');
    const prefix = `CRC failed: GET ${URL_A}: `;
    expect(problem.detail.slice(0, prefix.length)).toBe(prefix);
    expect(problem.detail).toContain(cause);
    expect(problem.detail).toContain(fix);
    expect(problem.detail).not.toContain(app.consumerSecret);
    expect(await liveWebhooks()).toBe(0);
  });

  it("a receiver that checks the signature with another app's secret: 401, and which app's secret is expected", async () => {
    const other = await activeApp();
    const url = receiverUrl();
    receivers.set(url, other.consumerSecret);
    const { detail } = expectProblem(await register(url), 400, 'CrcValidationFailed');
    expect(detail).toContain(`GET ${url}: the receiver refused the check (HTTP 401)`);
    expect(detail).toContain(`the consumer secret of app ${app.id} (consumer key ${app.consumerKey})`);
    expect(detail).not.toContain(app.consumerSecret);
  });

  it('over https, workerd cannot tell a DNS failure from a TLS one: the message names both', async () => {
    const url = receiverUrl().replace('http:', 'https:');
    receivers.set(url, app.consumerSecret, 'unknown-host');
    const { detail } = expectProblem(await register(url), 400, 'CrcValidationFailed');
    expect(detail).toContain('could not be resolved, or the TLS handshake with it failed');
    expect(detail).toContain('valid certificate');
  });

  it('PUT says the same', async () => {
    const { id } = await registerWebhook(app, URL_A);
    receivers.behave(URL_A, 'refuse');
    const { detail } = expectProblem(await call('PUT', `/2/webhooks/${id}`, { token: app.bearer }), 400, 'CrcValidationFailed');
    expect(detail).toContain(`CRC failed: GET ${URL_A}: nothing is listening at ${new URL(URL_A).host} (connection refused)`);
  });
});

describe('GET /2/webhooks', () => {
  it("lists only this app's webhooks in X shape", async () => {
    const empty = await call('GET', '/2/webhooks', { token: app.bearer, headers: { 'content-type': 'application/json' } });
    expect(empty.body).toEqual({ data: [], meta: { result_count: 0 } });
    const w = await registerWebhook(app, URL_A);
    const res = await call('GET', '/2/webhooks', { token: app.bearer });
    expect(res.body).toEqual({
      data: [{ id: w.id, url: URL_A, valid: true, created_at: w.created_at }],
      meta: { result_count: 1 },
    });
  });
});

describe('PUT /2/webhooks/:id', () => {
  it('re-validates, and a failed CRC makes the webhook invalid', async () => {
    const { id } = await registerWebhook(app, URL_A);
    receivers.behave(URL_A, 'wrong-token');
    expectProblem(await call('PUT', `/2/webhooks/${id}`, { token: app.bearer }), 400, 'CrcValidationFailed');
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data[0].valid).toBe(false);
    receivers.behave(URL_A, 'ok');
    const ok = await call('PUT', `/2/webhooks/${id}`, { token: app.bearer, body: '', headers: { 'content-type': 'application/json' } });
    expect(ok.body).toEqual({ data: { valid: true } });
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data[0].valid).toBe(true);
  });

  it('a transient failure on PUT also invalidates (the developer asked for a check now)', async () => {
    const { id } = await registerWebhook(app, URL_A);
    receivers.behave(URL_A, 'server-error');
    expectProblem(await call('PUT', `/2/webhooks/${id}`, { token: app.bearer }), 400, 'CrcValidationFailed');
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data[0].valid).toBe(false);
  });
});

describe('DELETE /2/webhooks/:id', () => {
  it('deletes the webhook and ends its subscriptions, keeping history', async () => {
    const { id } = await registerWebhook(app, URL_A);
    const userToken = await grantUser(app.id, '42');
    await call('POST', `/2/account_activity/webhooks/${id}/subscriptions/all`, { token: userToken, body: {} });
    const res = await call('DELETE', `/2/webhooks/${id}`, { token: app.bearer, body: '', headers: { 'content-type': 'application/json' } });
    expect(res.body).toEqual({ data: { deleted: true } });
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).body.data).toEqual([]);
    const sub = await env.DB.prepare('SELECT ended_at, end_reason FROM subscriptions WHERE webhook_id = ?').bind(id).first();
    expect(sub).toMatchObject({ end_reason: 'webhook_deleted' });
    expect(sub!.ended_at).toBeTypeOf('number');
    expectProblem(await call('DELETE', `/2/webhooks/${id}`, { token: app.bearer }), 404, 'WebhookIdInvalid');
  });
});

describe('tenant isolation', () => {
  it("another app's webhook id is not found, and nothing changes", async () => {
    const mine = await registerWebhook(app, URL_A);
    const intruder = await activeApp();
    for (const [method, path] of [
      ['PUT', `/2/webhooks/${mine.id}`],
      ['DELETE', `/2/webhooks/${mine.id}`],
      ['GET', `/2/account_activity/webhooks/${mine.id}/subscriptions/all/list`],
    ] as const) {
      const res = await call(method, path, { token: intruder.bearer });
      expectProblem(res, 404, 'WebhookIdInvalid');
      expect(JSON.stringify(res.body)).not.toContain(URL_A);
    }
    const list = await call('GET', '/2/webhooks', { token: app.bearer });
    expect(list.body.data).toEqual([{ id: mine.id, url: URL_A, valid: true, created_at: mine.created_at }]);
  });

  it('malformed webhook ids are a 400', async () => {
    expectProblem(await call('PUT', '/2/webhooks/abc', { token: app.bearer }), 400, 'WebhookIdInvalid');
  });
});
