import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import type { AppDeliveryObject } from '../src/app-object/app-delivery-object';
import worker from '../src/index';
import { objectRows, stageRelease, withStore } from './support/app-object';
import { activeApp } from './support/apps';
import { captureConsole } from './support/console';
import { appWithWebhookEachTest } from './support/fixtures';
import { call } from './support/http';

const fx = appWithWebhookEachTest({ subscribers: ['1'] });

const stage = (userId: string) => stageRelease(fx.app.id, { webhookId: fx.hook.id, userId });

async function consume(bodies: unknown[], queue = 'aae-deliveries', vars: Record<string, string> = {}) {
  const batch = createMessageBatch(
    queue,
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, { ...env, ...vars });
  return getQueueResult(batch, ctx);
}

/** The webhook's attempts as its delivery log shows them, oldest first. */
async function attempts() {
  const log = await call('GET', `/2/account_activity/webhooks/${fx.hook.id}/deliveries`, { token: fx.app.bearer });
  return (log.body.data as { attempt: number; outcome: string; error: string | null; latency_ms: number }[]).reverse();
}

describe('queue consumer', () => {
  it('claims, POSTs and reports a live delivery, then acks it', async () => {
    const message = await stage('1');
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
    expect(fx.receivers.posts(fx.url)[0].headers.get('webhook-id')).toBe(message.deliveryId);
  });

  it('never POSTs a delivery withdrawn after it was queued', async () => {
    const message = await stage('1');
    await call('DELETE', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/1/all`, { token: fx.app.bearer });
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });

  it('never POSTs a message whose delivery id does not match the object record', async () => {
    const message = await stage('1');
    await consume([
      { ...message, deliveryId: 'msg_forged' },
      { ...message, attempt: 7 },
    ]);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });

  it('sends a delivery named twice in one batch once', async () => {
    const message = await stage('1');
    await consume([message, message]);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
  });

  it('acks and drops malformed messages, saying so', async () => {
    const logged = captureConsole('error');
    const result = await consume([{ hello: 'world' }, 'text', null]);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1', 'm2']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
    expect(logged.mock.calls).toEqual(['m0', 'm1', 'm2'].map((id) => [`queue message ${id} is not a delivery message; dropped`]));
  });

  it('retries a batch whose app object cannot serve it', async () => {
    // The object's RPC fails (unreachable, overloaded, or refusing an app it does not hold).
    const failing = { claim: () => Promise.reject(new Error('object unavailable')) } as unknown as DurableObjectStub<AppDeliveryObject>;
    vi.spyOn(env.APP_DELIVERY, 'get').mockReturnValueOnce(failing);
    const logged = captureConsole('error');
    const result = await consume([{ app: '424242', seq: 1, deliveryId: 'msg_x', attempt: 1, release: 1, webhook: '1' }]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
    expect(logged).toHaveBeenCalledWith(
      'app 424242: claim failed; its messages come back in 5 s',
      expect.objectContaining({ message: 'object unavailable' }),
    );
  });

  it('cuts a request off at the slow threshold on the fast queue, so a receiver that hangs holds the invocation no longer', async () => {
    fx.receivers.onPost(fx.url, () => new Promise<Response>(() => {}));
    const message = await stage('1');
    const started = Date.now();
    const result = await consume([message], 'aae-deliveries', { SLOW_WEBHOOK_MS: '300', DELIVERY_TIMEOUT_MS: '10000' });
    // The invocation ended at the cut-off, not at the 10 s attempt timeout.
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
    // It was an attempt (the receiver may have it), retried on the schedule, and the webhook is now slow.
    expect(await attempts()).toEqual([
      expect.objectContaining({
        attempt: 1,
        outcome: 'retrying',
        error: 'timeout: no answer within 300 ms on the fast queue; retried on the slow queue',
      }),
    ]);
    const [webhook] = await objectRows<{ path: string }>(fx.app.id, 'SELECT path FROM webhooks WHERE id = ?', fx.hook.id);
    expect(webhook.path).toBe('slow');
  });

  it('counts a 200 whose body never ends as delivered, and cuts the body off with the attempt', async () => {
    // Headers at once, then a body that never finishes: it holds the connection as a hanging answer would.
    fx.receivers.onPost(fx.url, () => new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(1)) }), { status: 200 }));
    const message = await stage('1');
    const started = Date.now();
    const result = await consume([message], 'aae-deliveries', { SLOW_WEBHOOK_MS: '300', DELIVERY_TIMEOUT_MS: '10000' });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(await attempts()).toEqual([expect.objectContaining({ attempt: 1, outcome: 'delivered', error: null })]);
    // Holding the connection past the slow threshold is what makes a webhook slow.
    const [webhook] = await objectRows<{ path: string }>(fx.app.id, 'SELECT path FROM webhooks WHERE id = ?', fx.hook.id);
    expect(webhook.path).toBe('slow');
  });

  it('gives a request on the slow queue the whole attempt timeout', async () => {
    fx.receivers.onPost(fx.url, () => new Promise<Response>(() => {}));
    await withStore(fx.app.id, (store) => store.webhooks.setPath(fx.hook.id, 'slow', 0));
    const message = await stage('1');
    const started = Date.now();
    await consume([message], 'aae-deliveries-slow', { SLOW_WEBHOOK_MS: '300', DELIVERY_TIMEOUT_MS: '900' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(await attempts()).toEqual([
      expect.objectContaining({ attempt: 1, outcome: 'retrying', error: 'timeout: no answer within 900 ms' }),
    ]);
  });

  it("an app's messages are only ever claimed from that app's object", async () => {
    const other = await activeApp();
    const message = await stage('1');
    // Point the message at another app: that object has no such delivery, so nothing is sent.
    await consume([{ ...message, app: other.id }]);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });
});
