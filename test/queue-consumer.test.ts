import { createExecutionContext, createMessageBatch, getQueueResult, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { type AppDeliveryObject, appObject } from '../src/delivery/app-delivery-object';
import type { DeliveryMessage } from '../src/delivery/queue-message';
import worker from '../src/index';
import { internalsOf } from './support/app-object';
import { activeApp } from './support/apps';
import { captureConsole } from './support/console';
import { appWithWebhookEachTest } from './support/fixtures';
import { call } from './support/http';

const fx = appWithWebhookEachTest({ subscribers: ['1'] });

/**
 * Puts a message straight into the app object's outbox as released, without sending it to the live
 * queue, so the test alone decides what the consumer is handed.
 */
async function stageRelease(userId: string, payload = '{"for_user_id":"1"}'): Promise<DeliveryMessage> {
  return runInDurableObject(appObject(env, fx.app.id), (object: AppDeliveryObject) => {
    const { outbox } = internalsOf(object);
    const deliveryId = `msg_test${Math.random().toString(36).slice(2)}_${fx.hook.id}_${userId}`;
    const seq = outbox.append({
      deliveryId,
      kind: 'event',
      eventId: 'e1',
      eventType: 'tweet_create',
      requiredScope: 'tweet.read',
      webhookId: fx.hook.id,
      userId,
      payload,
      createdAt: Date.now(),
    });
    outbox.markQueued(seq, Date.now());
    return { app: fx.app.id, seq, id: deliveryId, attempt: 1 };
  });
}

async function consume(bodies: unknown[]) {
  const batch = createMessageBatch(
    'aae-deliveries',
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

describe('queue consumer', () => {
  it('claims, POSTs and reports a live delivery, then acks it', async () => {
    const message = await stageRelease('1');
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
    expect(fx.receivers.posts(fx.url)[0].headers.get('webhook-id')).toBe(message.id);
  });

  it('never POSTs a delivery withdrawn after it was queued', async () => {
    const message = await stageRelease('1');
    await call('DELETE', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/1/all`, { token: fx.app.bearer });
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });

  it('never POSTs a message whose delivery id does not match the object record', async () => {
    const message = await stageRelease('1');
    await consume([
      { ...message, id: 'msg_forged' },
      { ...message, attempt: 7 },
    ]);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });

  it('sends a delivery named twice in one batch once', async () => {
    const message = await stageRelease('1');
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
    const result = await consume([{ app: '424242', seq: 1, id: 'msg_x', attempt: 1 }]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m0']);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
    expect(logged).toHaveBeenCalledWith(
      'deliveries for app 424242 will be retried',
      expect.objectContaining({ message: 'object unavailable' }),
    );
  });

  it("an app's messages are only ever claimed from that app's object", async () => {
    const other = await activeApp();
    const message = await stageRelease('1');
    // Point the message at another app: that object has no such delivery, so nothing is sent.
    await consume([{ ...message, app: other.id }]);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
  });
});
