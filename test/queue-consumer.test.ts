import { createExecutionContext, createMessageBatch, getQueueResult } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import worker from '../src/index';
import { activeApp, appWithWebhook, call, type Receivers, type registerWebhook, subscribe, type TestApp } from './helpers';
import { stageRelease } from './object-store';

let receivers: Receivers;
let app: TestApp;
let hook: Awaited<ReturnType<typeof registerWebhook>>;
let url: string;
let port = 9900;

const stage = (userId: string) => stageRelease(app.id, { webhookId: hook.id, userId });

async function consume(bodies: unknown[]) {
  const batch = createMessageBatch(
    'aae-deliveries',
    bodies.map((body, i) => ({ id: `m${i}`, timestamp: new Date(), attempts: 1, body })),
  );
  const ctx = createExecutionContext();
  await worker.queue(batch as MessageBatch<unknown>, env);
  return getQueueResult(batch, ctx);
}

beforeEach(async () => {
  ({ receivers, app, hook, url } = await appWithWebhook(`http://127.0.0.1:${port++}/hook`));
  await subscribe(app, hook.id, '1');
});

describe('queue consumer', () => {
  it('claims, POSTs and reports a live delivery, then acks it', async () => {
    const message = await stage('1');
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(receivers.posts(url)).toHaveLength(1);
    expect(receivers.posts(url)[0].headers.get('webhook-id')).toBe(message.deliveryId);
  });

  it('never POSTs a delivery withdrawn after it was queued', async () => {
    const message = await stage('1');
    await call('DELETE', `/2/account_activity/webhooks/${hook.id}/subscriptions/1/all`, { token: app.bearer });
    const result = await consume([message]);
    expect(result.explicitAcks).toEqual(['m0']);
    expect(receivers.posts(url)).toHaveLength(0);
  });

  it('never POSTs a message whose delivery id does not match the object record', async () => {
    const message = await stage('1');
    await consume([
      { ...message, deliveryId: 'msg_forged' },
      { ...message, attempt: 7 },
    ]);
    expect(receivers.posts(url)).toHaveLength(0);
  });

  it('sends a delivery named twice in one batch once', async () => {
    const message = await stage('1');
    await consume([message, message]);
    expect(receivers.posts(url)).toHaveLength(1);
  });

  it('acks and drops malformed messages', async () => {
    const result = await consume([{ hello: 'world' }, 'text', null]);
    expect(result.explicitAcks.sort()).toEqual(['m0', 'm1', 'm2']);
    expect(receivers.posts(url)).toHaveLength(0);
  });

  it('retries a batch whose app object cannot serve it (here: an app id nobody provisioned)', async () => {
    const result = await consume([{ app: '424242', seq: 1, deliveryId: 'msg_x', attempt: 1, release: 1, webhook: '1' }]);
    expect(result.retryMessages.map((m: { msgId: string }) => m.msgId)).toEqual(['m0']);
    expect(receivers.posts(url)).toHaveLength(0);
  });

  it("an app's messages are only ever claimed from that app's object", async () => {
    const other = await activeApp();
    const message = await stage('1');
    // Point the message at another app: that object has no such delivery, so nothing is sent.
    await consume([{ ...message, app: other.id }]);
    expect(receivers.posts(url)).toHaveLength(0);
  });
});
