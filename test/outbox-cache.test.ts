import { describe, expect, it } from 'vitest';
import { AppStore } from '../src/app-object/storage/app-store';
import { forgetOutboxCache } from '../src/app-object/storage/outbox-cache';
import type { NewMessage } from '../src/app-object/storage/outbox-store';
import { countingSql } from '../src/observability/work-counters';
import { withStore } from './support/app-object';
import { appWithWebhook } from './support/fixtures';

/**
 * The object keeps a delivery's outbox row and message in memory between steps (outbox-cache.ts),
 * and the set of event types with a live X Activity API subscription (mirror-cache.ts). These tests
 * try to make either answer from a stale copy: a write through another AppStore over the same
 * database, retention dropping payloads, a finished message, raw SQL.
 */
const message = (webhookId: string, userId: string, createdAt: number): NewMessage => ({
  deliveryId: `msg_cache_${userId}_${createdAt}`,
  kind: 'event',
  eventId: `e_cache_${userId}_${createdAt}`,
  eventType: 'tweet_create',
  requiredScope: null,
  webhookId,
  userId,
  payload: '{"tweet_create_events":[]}',
  createdAt,
});

describe("the object's outbox cache never answers other than its storage", () => {
  it('follows every step of a delivery made through another store, payload retention, and the finish', async () => {
    const fx = await appWithWebhook({ subscribers: ['51'] });
    await withStore(fx.app.id, (_store, state) => {
      const reader = new AppStore(countingSql(state.storage.sql));
      const writer = new AppStore(state.storage.sql);
      const now = Date.now();
      const seq = reader.outbox.append(message(fx.hook.id, '51', now - 10_000));
      expect(reader.outbox.outboxRow(seq)?.state).toBe('waiting');
      expect(reader.outbox.message(seq)?.payload).not.toBeNull();

      expect(writer.outbox.markReleased(seq, now)).toBe(1);
      expect(reader.outbox.outboxRow(seq)).toMatchObject({ state: 'released', release: 1, released_at: now });
      writer.outbox.markHanded(seq, 77, now + 3_000);
      expect(reader.outbox.outboxRow(seq)).toMatchObject({ state: 'handed', hand_out_id: 77, start_by: now + 3_000 });
      writer.outbox.recordAttempt(seq, { at: now, statusCode: 503, error: null, attempt: 1 });
      expect(reader.outbox.message(seq)?.attempts).toBe(1);
      writer.outbox.markWaiting(seq, 2, now + 5_000);
      expect(reader.outbox.outboxRow(seq)).toMatchObject({ state: 'waiting', attempt: 2, hand_out_id: null });
      writer.outbox.markHeld(seq);
      expect(reader.outbox.outboxRow(seq)?.state).toBe('held');
      writer.outbox.unhold(fx.hook.id);
      expect(reader.outbox.outboxRow(seq)?.state).toBe('waiting');

      writer.retention.expirePayloads(now - 5_000);
      expect(reader.outbox.message(seq)?.payload).toBeNull();

      writer.outbox.finish(seq, 'delivered', now, { at: now, statusCode: 200, error: null, attempt: 2 });
      expect(reader.outbox.outboxRow(seq)).toBeUndefined();
      expect(reader.outbox.message(seq)).toMatchObject({ state: 'delivered', attempts: 2 });
      writer.retention.forgetBefore(now);
      expect(reader.outbox.message(seq)).toBeUndefined();
    });
  });

  it('needs forgetOutboxCache after a raw SQL write, and answers from storage after it', async () => {
    const fx = await appWithWebhook({ subscribers: ['52'] });
    await withStore(fx.app.id, (store, state) => {
      const createdAt = Date.now();
      const seq = store.outbox.append(message(fx.hook.id, '52', createdAt));
      state.storage.sql.exec('UPDATE messages SET created_at = created_at - 60000 WHERE seq = ?', seq);
      expect(store.outbox.message(seq)?.created_at).toBe(createdAt); // the cached row, as documented
      forgetOutboxCache(state.storage.sql);
      expect(store.outbox.message(seq)?.created_at).toBe(createdAt - 60_000);
    });
  });
});

describe("the object's memo of live X Activity API event types", () => {
  it('finds a subscription put after ingest asked for its event type, and not one ended since', async () => {
    const fx = await appWithWebhook();
    await withStore(fx.app.id, (_store, state) => {
      const reader = new AppStore(countingSql(state.storage.sql));
      const writer = new AppStore(state.storage.sql);
      const now = Date.now();
      expect(reader.mirror.xaa.liveFor('61', 'post.create')).toEqual([]); // no live type yet: remembered
      writer.mirror.xaa.put(
        {
          id: '9901',
          eventType: 'post.create',
          userId: '61',
          direction: null,
          keyword: null,
          tag: null,
          webhookId: null,
          authorizationId: null,
          at: now,
        },
        now,
      );
      expect(reader.mirror.xaa.liveFor('61', 'post.create').map((r) => r.id)).toEqual(['9901']);
      expect(reader.mirror.xaa.liveFor('61', 'like.create')).toEqual([]);
      writer.mirror.xaa.end([{ id: '9901', userId: '61' }], now);
      expect(reader.mirror.xaa.liveFor('61', 'post.create')).toEqual([]);
    });
  });
});
