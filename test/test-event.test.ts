import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { objectRows } from './support/app-object';
import { activeApp, registerWebhook } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, platform } from './support/http';
import { receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';

const fx = appWithWebhookEachTest();
const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });

describe("a developer's test event", () => {
  it('reaches the webhook signed like any delivery, carries no user data, and is on the ledger and past the audit', async () => {
    const result = await appObject(env, fx.app.id).sendTestEvent(fx.app.id, fx.hook.id);
    expect(result).toMatchObject({ ok: true, deliveryId: expect.stringMatching(new RegExp(`^msg_\\d+_${fx.hook.id}_app$`)) });
    if (!result.ok) throw new Error('refused');

    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    const [post] = fx.receivers.posts(fx.url);
    expect(await signerOf(post, [{ name: 'mine', consumerSecret: fx.app.consumerSecret, signingSecret: fx.hook.signing_secret }])).toBe(
      'mine',
    );
    expect(post.headers.get('webhook-id')).toBe(result.deliveryId);
    const body = JSON.parse(post.body);
    expect(Object.keys(body)).toEqual(['test_event']);
    expect(body.test_event).toEqual({
      id: result.eventId,
      created_timestamp: expect.stringMatching(/^\d{13}$/),
      app_id: fx.app.id,
      webhook_id: fx.hook.id,
      description: expect.stringContaining('no user data'),
    });

    await wait(async () => {
      const rows = await objectRows(fx.app.id, 'SELECT kind, event_type, for_user_id, outcome, url FROM ledger');
      expect(rows).toEqual([{ kind: 'test', event_type: 'test_event', for_user_id: '', outcome: 'delivered', url: fx.url }]);
    });
    const log = await call('GET', `/2/account_activity/webhooks/${fx.hook.id}/deliveries`, { token: fx.app.bearer });
    expect(log.body.data).toEqual([
      expect.objectContaining({ kind: 'test', event_type: 'test_event', for_user_id: null, outcome: 'delivered', status_code: 200 }),
    ]);
    const audit = await platform('GET', `/internal/audit/verify?app_id=${fx.app.id}`);
    expect(audit.body.data).toMatchObject({ checked: 1, violations: [] });
  });

  it('is refused for a webhook of another app, a deleted or invalid webhook, and a suspended app, and nothing is queued', async () => {
    const other = await activeApp({ name: 'Other' });
    const otherUrl = receiverUrl();
    fx.receivers.set(otherUrl, other.consumerSecret);
    const otherHook = await registerWebhook(other, otherUrl);
    const object = appObject(env, fx.app.id);
    expect(await object.sendTestEvent(fx.app.id, otherHook.id)).toEqual({ ok: false, reason: 'not_found' });
    // Asking another app's object about this app is refused by the object itself (called on the
    // instance, not over RPC, so the refusal surfaces here as a rejected promise).
    await runInDurableObject(appObject(env, other.id), async (objectOfOther) => {
      await expect(objectOfOther.sendTestEvent(fx.app.id, fx.hook.id)).rejects.toThrow(/refused a call for app/);
    });

    await object.setWebhookValid(fx.app.id, fx.hook.id, false, Date.now());
    expect(await object.sendTestEvent(fx.app.id, fx.hook.id)).toEqual({ ok: false, reason: 'invalid' });
    await object.setWebhookValid(fx.app.id, fx.hook.id, true, Date.now());

    await platform('POST', `/internal/apps/${fx.app.id}/suspend`, { reason: 'testing' });
    expect(await object.sendTestEvent(fx.app.id, fx.hook.id)).toEqual({ ok: false, reason: 'not_active' });
    await platform('POST', `/internal/apps/${fx.app.id}/approve`);
    await object.deleteWebhook(fx.app.id, fx.hook.id);
    expect(await object.sendTestEvent(fx.app.id, fx.hook.id)).toEqual({ ok: false, reason: 'not_found' });

    expect(await objectRows(fx.app.id, 'SELECT seq FROM messages')).toEqual([]);
    expect(fx.receivers.posts(fx.url)).toEqual([]);
  });
});
