import { runInDurableObject } from 'cloudflare:test';
import { env, exports } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, vi } from 'vitest';
import { forgetMirrorCache } from '../src/app-object/storage/mirror-cache';
import { appObject } from '../src/delivery/app-objects';
import { hmacSha256Base64 } from '../src/domain/crypto';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { activeApp, issueBearer } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { basic, call, expectProblem, platform } from './support/http';

const fx = appWithWebhookEachTest({ subscribers: ['1'] });
let n = 0;

const tweet = () => {
  n++;
  return { id: uniqueId('rot'), type: 'tweet_create', tweet: { id: String(n), text: `t${n}`, author: u('1') } };
};
/** Ends every rotation's grace window now, as if it had run out. */
async function endGrace(appId: string) {
  await runInDurableObject(appObject(env, appId), (_object, state) => {
    state.storage.sql.exec('UPDATE tenant SET previous_consumer_secret_until = 1');
    state.storage.sql.exec('UPDATE webhooks SET previous_signing_secret_until = 1');
    forgetMirrorCache(state.storage.sql);
  });
}

describe('consumer secret rotation', () => {
  it('signs with the new secret at once, accepts CRC answers under the old one through the grace window, and revokes bearer tokens', async () => {
    const res = await platform('POST', `/internal/apps/${fx.app.id}/rotate-secret`);
    expect(res.status).toBe(200);
    const rotated = res.body.data.consumer_secret;
    expect(rotated).toMatch(/^aae_cs_/);
    expect(rotated).not.toBe(fx.app.consumerSecret);
    expect(new Date(res.body.data.previous_secret_valid_until).getTime() - Date.now()).toBeGreaterThan(23 * 3_600_000);

    // Old bearer tokens stop; the old secret no longer gets new ones; the new one does.
    expectProblem(await call('GET', '/2/webhooks', { token: fx.app.bearer }), 401);
    const old = await exports.default.fetch('http://x/oauth2/token', {
      method: 'POST',
      headers: { authorization: basic(fx.app.consumerKey, fx.app.consumerSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    expect(old.status).toBe(401);
    const bearer = await issueBearer({ consumerKey: fx.app.consumerKey, consumerSecret: rotated });

    // A receiver still configured with the old secret keeps passing the CRC during the grace window.
    fx.receivers.pin(fx.url, fx.app.consumerSecret);
    expect((await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: bearer })).status).toBe(200);

    // Deliveries carry the X signature of the new secret.
    await ingest(tweet());
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1), { timeout: 5000 });
    const post = fx.receivers.posts(fx.url)[0];
    expect(post.headers.get('x-twitter-webhooks-signature')).toBe(`sha256=${await hmacSha256Base64(rotated, post.body)}`);

    // After the grace window the old secret's answer fails the CRC; the new one's passes.
    await endGrace(fx.app.id);
    expectProblem(await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: bearer }), 400, 'CrcValidationFailed');
    fx.receivers.pin(fx.url, rotated);
    expect((await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: bearer })).status).toBe(200);
  });

  it('is for the platform, and 404 for an unknown app', async () => {
    expectProblem(await call('POST', `/internal/apps/${fx.app.id}/rotate-secret`, { token: fx.app.bearer }), 401);
    expectProblem(await platform('POST', '/internal/apps/9999999/rotate-secret'), 404);
  });
});

describe('webhook signing secret rotation', () => {
  it('signs with both secrets through the grace window, with the new one only after', async () => {
    const res = await call('POST', `/2/webhooks/${fx.hook.id}/rotate-secret`, { token: fx.app.bearer });
    expect(res.status).toBe(200);
    const fresh = res.body.data.signing_secret;
    expect(fresh).toMatch(/^whsec_/);
    expect(fresh).not.toBe(fx.hook.signing_secret);

    await ingest(tweet());
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1), { timeout: 5000 });
    const during = fx.receivers.posts(fx.url)[0];
    expect(during.headers.get('webhook-signature')!.split(' ')).toHaveLength(2);
    const headers = (p: typeof during) => Object.fromEntries(p.headers);
    expect(() => new Webhook(fx.hook.signing_secret).verify(during.body, headers(during))).not.toThrow();
    expect(() => new Webhook(fresh).verify(during.body, headers(during))).not.toThrow();

    await endGrace(fx.app.id);
    await ingest(tweet());
    await vi.waitFor(() => expect(fx.receivers.posts(fx.url)).toHaveLength(2), { timeout: 5000 });
    const after = fx.receivers.posts(fx.url)[1];
    expect(after.headers.get('webhook-signature')!.split(' ')).toHaveLength(1);
    expect(() => new Webhook(fresh).verify(after.body, headers(after))).not.toThrow();
    expect(() => new Webhook(fx.hook.signing_secret).verify(after.body, headers(after))).toThrow();
  });

  it("cannot rotate another app's webhook", async () => {
    const other = await activeApp();
    expectProblem(await call('POST', `/2/webhooks/${fx.hook.id}/rotate-secret`, { token: other.bearer }), 404, 'WebhookIdInvalid');
  });
});
