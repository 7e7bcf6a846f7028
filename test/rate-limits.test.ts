import { describe, expect, it } from 'vitest';
import { activeApp, registerWebhook } from './support/apps';
import { call, expectProblem, platform } from './support/http';
import { installReceivers, receiverUrl } from './support/receivers';

const COUNT = '/2/account_activity/subscriptions/count';

describe('rate limits', () => {
  it("sets X's headers on every response of a limited endpoint, errors included", async () => {
    const app = await activeApp();
    const ok = await call('GET', COUNT, { token: app.bearer });
    expect(ok.headers.get('x-rate-limit-limit')).toBe('15');
    expect(ok.headers.get('x-rate-limit-remaining')).toBe('14');
    const reset = Number(ok.headers.get('x-rate-limit-reset'));
    expect(reset * 1000).toBeGreaterThan(Date.now());
    expect(reset * 1000 - Date.now()).toBeLessThanOrEqual(900_000);
    const missing = await call('DELETE', '/2/webhooks/123456', { token: app.bearer });
    expectProblem(missing, 404);
    expect(missing.headers.get('x-rate-limit-remaining')).toBe('14');
  });

  it('answers 429 with retry-after past the limit, per app and per endpoint', async () => {
    const app = await activeApp();
    const other = await activeApp();
    for (let i = 0; i < 15; i++) expect((await call('GET', COUNT, { token: app.bearer })).status).toBe(200);
    const refused = await call('GET', COUNT, { token: app.bearer });
    const problem = expectProblem(refused, 429);
    expect(problem.detail).toContain('subscriptions:count allows 15 requests per 15 minutes');
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
    // Another app, and another endpoint of the same app, are counted apart.
    expect((await call('GET', COUNT, { token: other.bearer })).status).toBe(200);
    expect((await call('GET', '/2/webhooks', { token: app.bearer })).status).toBe(200);
  });

  it('limits webhook registration (15 per window) before any CRC is sent', async () => {
    const receivers = installReceivers();
    const app = await activeApp({ max_webhooks: 100 });
    for (let i = 0; i < 15; i++) {
      const url = receiverUrl();
      receivers.set(url, app.consumerSecret);
      await registerWebhook(app, url);
    }
    const crcsBefore = receivers.seen.length;
    expectProblem(await call('POST', '/2/webhooks', { token: app.bearer, body: { url: receiverUrl() } }), 429);
    expect(receivers.seen.length).toBe(crcsBefore);
  });

  it('gives the platform its own, higher limits', async () => {
    const res = await platform('POST', '/internal/apps', { name: 'x' });
    expect(Number(res.headers.get('x-rate-limit-limit'))).toBe(10_000);
    const ingest = await platform('POST', '/internal/activity', { id: 'rl-1', type: 'tweet_delete', tweet_id: '1', author_id: '1' });
    expect(Number(ingest.headers.get('x-rate-limit-limit'))).toBe(60_000);
  });

  it.each([
    ['the ledger of an app', (appId: string) => `/internal/apps/${appId}/deliveries`],
    ['an app', (appId: string) => `/internal/apps/${appId}`],
    ["a user's access", () => '/internal/users/1/access'],
    ['the audit', () => '/internal/audit/verify'],
  ])('counts one platform request to %s once against platform:other', async (_what, path) => {
    const app = await activeApp();
    const first = await platform('GET', path(app.id));
    const second = await platform('GET', path(app.id));
    expect(first.status).toBe(200);
    expect(Number(first.headers.get('x-rate-limit-remaining')) - Number(second.headers.get('x-rate-limit-remaining'))).toBe(1);
  });

  it('does not count unauthenticated requests', async () => {
    const res = await call('GET', COUNT, { token: 'aae_at_nope' });
    expectProblem(res, 401);
    expect(res.headers.get('x-rate-limit-limit')).toBeNull();
  });
});
