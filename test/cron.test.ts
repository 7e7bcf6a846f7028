import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { revalidateDueWebhooks } from '../src/delivery/cron';
import worker from '../src/index';
import { activeApp, call, installReceivers, registerWebhook, type TestApp } from './helpers';

const H = 3_600_000;
let receivers: ReturnType<typeof installReceivers>;
let app: TestApp;
let webhookId: string;
let url: string;
let port = 9200;

/** Time is controlled by moving the webhook's last success into the past relative to `now`. */
async function lastSuccessHoursAgo(hours: number, now: number) {
  await env.DB.prepare('UPDATE webhooks SET last_crc_success_at = ?, last_crc_at = ? WHERE id = ?')
    .bind(now - hours * H, now - hours * H, webhookId)
    .run();
}
const row = () =>
  env.DB.prepare('SELECT valid, last_crc_success_at, last_crc_error FROM webhooks WHERE id = ?').bind(webhookId).first<any>();
const objectValid = () =>
  runInDurableObject(
    appObject(env, app.id),
    (_o, state) => state.storage.sql.exec<{ valid: number }>('SELECT valid FROM webhooks WHERE id = ?', webhookId).one().valid,
  );

beforeEach(async () => {
  receivers = installReceivers();
  app = await activeApp();
  url = `http://127.0.0.1:${port++}/hook`;
  receivers.set(url, app.consumerSecret);
  webhookId = (await registerWebhook(app, url)).id;
});

describe('scheduled CRC re-validation', () => {
  it('leaves webhooks validated within 24 h alone', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(23, now);
    const before = receivers.seen.length;
    const report = await revalidateDueWebhooks(env, now);
    expect(receivers.seen.slice(before).some((r) => r.url.port === new URL(url).port)).toBe(false);
    expect(report.invalidated).not.toContain(webhookId);
  });

  it('re-checks a webhook not validated for 24 h and records the success', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    await revalidateDueWebhooks(env, now);
    expect(await row()).toMatchObject({ valid: 1, last_crc_success_at: now, last_crc_error: null });
  });

  it('a wrong response token invalidates at once, in D1 and in the app object', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    receivers.behave(url, 'wrong-token');
    const report = await revalidateDueWebhooks(env, now);
    expect(report.invalidated).toContain(webhookId);
    expect((await row()).valid).toBe(0);
    expect(await objectValid()).toBe(0);
  });

  it.each(['redirect', 'non-json'] as const)('%s is a hard failure', async (behaviour) => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    receivers.behave(url, behaviour);
    await revalidateDueWebhooks(env, now);
    expect((await row()).valid).toBe(0);
  });

  it.each(['server-error', 'timeout', 'refuse'] as const)(
    '%s is transient: valid until 28 h without success, then invalid',
    async (behaviour) => {
      const now = Date.now();
      receivers.behave(url, behaviour);
      await lastSuccessHoursAgo(27.5, now);
      await revalidateDueWebhooks(env, now);
      expect((await row()).valid).toBe(1);
      expect((await row()).last_crc_error).toMatch(/^transient/);
      await revalidateDueWebhooks(env, now + 0.5 * H);
      expect((await row()).valid).toBe(0);
      expect(await objectValid()).toBe(0);
    },
  );

  it('an invalid webhook whose receiver recovers becomes valid again', async () => {
    const now = Date.now();
    receivers.behave(url, 'wrong-token');
    await call('PUT', `/2/webhooks/${webhookId}`, { token: app.bearer });
    expect((await row()).valid).toBe(0);
    receivers.behave(url, 'ok');
    const report = await revalidateDueWebhooks(env, now + 30 * H);
    expect(report.revalidated).toContain(webhookId);
    expect((await row()).valid).toBe(1);
    expect(await objectValid()).toBe(1);
  });

  it('runs from the Worker scheduled handler', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    receivers.behave(url, 'wrong-token');
    const controller = createScheduledController({ scheduledTime: now, cron: '*/30 * * * *' });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await row()).valid).toBe(0);
  });
});
