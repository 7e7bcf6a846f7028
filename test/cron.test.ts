import { createExecutionContext, createScheduledController, runInDurableObject, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { revalidateDueWebhooks } from '../src/delivery/cron';
import worker from '../src/index';
import { captureConsole } from './support/console';
import { appWithWebhookEachTest } from './support/fixtures';
import { call } from './support/http';

const H = 3_600_000;
const fx = appWithWebhookEachTest();

/** Time is controlled by moving the webhook's last success into the past relative to `now`. */
async function lastSuccessHoursAgo(hours: number, now: number) {
  await env.DB.prepare('UPDATE webhooks SET last_crc_success_at = ?, last_crc_at = ? WHERE id = ?')
    .bind(now - hours * H, now - hours * H, fx.hook.id)
    .run();
}
const row = () =>
  env.DB.prepare('SELECT valid, last_crc_success_at, last_crc_error FROM webhooks WHERE id = ?')
    .bind(fx.hook.id)
    .first<{ valid: number; last_crc_success_at: number | null; last_crc_error: string | null }>()
    .then((r) => r!);
const objectValid = () =>
  runInDurableObject(
    appObject(env, fx.app.id),
    (_o, state) => state.storage.sql.exec<{ valid: number }>('SELECT valid FROM webhooks WHERE id = ?', fx.hook.id).one().valid,
  );

describe('scheduled CRC re-validation', () => {
  it('leaves webhooks validated within 24 h alone', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(23, now);
    const before = fx.receivers.seen.length;
    const report = await revalidateDueWebhooks(env, now);
    expect(fx.receivers.seen.slice(before).some((r) => r.url.port === new URL(fx.url).port)).toBe(false);
    expect(report.invalidated).not.toContain(fx.hook.id);
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
    fx.receivers.behave(fx.url, 'wrong-token');
    const report = await revalidateDueWebhooks(env, now);
    expect(report.invalidated).toContain(fx.hook.id);
    expect((await row()).valid).toBe(0);
    expect(await objectValid()).toBe(0);
  });

  it.each(['redirect', 'non-json'] as const)('%s is a hard failure', async (behaviour) => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    fx.receivers.behave(fx.url, behaviour);
    await revalidateDueWebhooks(env, now);
    expect((await row()).valid).toBe(0);
  });

  it.each(['server-error', 'timeout', 'refuse'] as const)(
    '%s is transient: valid until 28 h without success, then invalid',
    async (behaviour) => {
      const now = Date.now();
      fx.receivers.behave(fx.url, behaviour);
      await lastSuccessHoursAgo(27.5, now);
      await revalidateDueWebhooks(env, now);
      expect((await row()).valid).toBe(1);
      expect((await row()).last_crc_error).toContain(`transient: GET ${fx.url}: `);
      await revalidateDueWebhooks(env, now + 0.5 * H);
      expect((await row()).valid).toBe(0);
      expect(await objectValid()).toBe(0);
    },
  );

  it('records why, with the URL, the cause and the fix, naming the app whose secret is expected', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    fx.receivers.behave(fx.url, 'wrong-token');
    await revalidateDueWebhooks(env, now);
    const error = (await row()).last_crc_error;
    expect(error).toContain(`hard: GET ${fx.url}: the response_token does not match`);
    expect(error).toContain(`the consumer secret of app ${fx.app.id} (consumer key ${fx.app.consumerKey})`);
    expect(error).not.toContain(fx.app.consumerSecret);
  });

  it('an invalid webhook whose receiver recovers becomes valid again', async () => {
    const now = Date.now();
    fx.receivers.behave(fx.url, 'wrong-token');
    await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer });
    expect((await row()).valid).toBe(0);
    fx.receivers.behave(fx.url, 'ok');
    const report = await revalidateDueWebhooks(env, now + 30 * H);
    expect(report.revalidated).toContain(fx.hook.id);
    expect((await row()).valid).toBe(1);
    expect(await objectValid()).toBe(1);
  });

  it('runs from the Worker scheduled handler', async () => {
    const now = Date.now();
    await lastSuccessHoursAgo(25, now);
    fx.receivers.behave(fx.url, 'wrong-token');
    const logged = captureConsole('log');
    const controller = createScheduledController({ scheduledTime: now, cron: '*/30 * * * *' });
    const ctx = createExecutionContext();
    await worker.scheduled(controller, env, ctx);
    await waitOnExecutionContext(ctx);
    expect((await row()).valid).toBe(0);
    // Its report goes to the Worker's log.
    expect(logged).toHaveBeenCalledWith('cron', expect.stringContaining(`"invalidated":["${fx.hook.id}"]`));
  });
});
