import { runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { withStore } from './support/app-object';
import { appWithWebhook } from './support/fixtures';
import { call } from './support/http';

const DAY = 86_400_000;

describe('retention (run by the object alarm)', () => {
  it('expires payloads after 5 days and ledger metadata after 400, dropping what never went out', async () => {
    const { receivers, app, hook, url } = await appWithWebhook();
    // Invalid webhook: anything for it is held in the outbox.
    receivers.behave(url, 'wrong-token');
    await call('PUT', `/2/webhooks/${hook.id}`, { token: app.bearer });
    const stub = appObject(env, app.id);
    const now = Date.now();
    await withStore(app.id, async ({ outbox, retention }, state) => {
      const base = {
        kind: 'event' as const,
        eventType: 'tweet_create',
        requiredScope: 'tweet.read',
        webhookId: hook.id,
        userId: '1',
        payload: '{"for_user_id":"1"}',
      };
      const heldOld = outbox.append({ ...base, deliveryId: 'msg_held_old', eventId: 'e1', createdAt: now - 6 * DAY });
      const deliveredOld = outbox.append({ ...base, deliveryId: 'msg_done_old', eventId: 'e2', createdAt: now - 6 * DAY });
      outbox.finish(deliveredOld, 'delivered', now - 6 * DAY);
      const deliveredNew = outbox.append({ ...base, deliveryId: 'msg_done_new', eventId: 'e3', createdAt: now - DAY });
      outbox.finish(deliveredNew, 'delivered', now - DAY);
      const sql = state.storage.sql;
      const ledgerRow = (id: string, at: number) =>
        sql.exec(
          `INSERT INTO ledger (seq, delivery_id, kind, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, outcome)
           VALUES (0, ?, 'event', ?, 'e', 'tweet_create', ?, '1', 1, ?, 'delivered')`,
          id,
          at,
          hook.id,
          at,
        );
      ledgerRow('ancient', now - 401 * DAY);
      ledgerRow('recent', now - 399 * DAY);
      retention.setMeta('last_purge', now - 2 * 3_600_000);
      await state.storage.setAlarm(now);
      return heldOld;
    });
    await runDurableObjectAlarm(stub);
    const after = await runInDurableObject(stub, (_o, state) => {
      const sql = state.storage.sql;
      return {
        messages: sql.exec('SELECT delivery_id, state, payload IS NOT NULL AS has_payload FROM messages ORDER BY seq').toArray(),
        outbox: sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n,
        ledger: sql.exec('SELECT delivery_id, outcome, error FROM ledger ORDER BY id').toArray(),
      };
    });
    expect(after.messages).toEqual([
      { delivery_id: 'msg_held_old', state: 'dropped', has_payload: 0 },
      { delivery_id: 'msg_done_old', state: 'delivered', has_payload: 0 },
      { delivery_id: 'msg_done_new', state: 'delivered', has_payload: 1 },
    ]);
    expect(after.outbox).toBe(0);
    expect(after.ledger.map((r) => r.delivery_id)).toEqual(['recent', 'msg_held_old']);
    expect(after.ledger[1]).toMatchObject({ outcome: 'dropped', error: expect.stringContaining('retention') });
  });
});
