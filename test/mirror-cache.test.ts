import { describe, expect, it } from 'vitest';
import { AppStore } from '../src/app-object/storage/app-store';
import { forgetMirrorCache } from '../src/app-object/storage/mirror-cache';
import { countingSql } from '../src/observability/work-counters';
import { withStore } from './support/app-object';
import { appWithWebhook } from './support/fixtures';

/**
 * The object keeps the mirror rows the entitlement rule reads in memory (mirror-cache.ts). These
 * tests try to make it answer from a stale copy: a change through another AppStore over the same
 * database, through the work counters' proxy, and by raw SQL.
 */
describe("the object's mirror cache never answers wider than its storage", () => {
  it('sees a revoke, an unsubscribe and an invalidation made through another store at once', async () => {
    const fx = await appWithWebhook({ subscribers: ['41', '42'] });
    await withStore(fx.app.id, (_store, state) => {
      const counted = new AppStore(countingSql(state.storage.sql));
      const plain = new AppStore(state.storage.sql);
      // Read through the counting proxy, so the cache is filled there.
      expect(counted.mirror.activeScope('41')).not.toBeNull();
      expect(counted.mirror.subscribedSince(fx.hook.id, '42', Date.now())).toBe(true);
      expect(counted.webhooks.get(fx.hook.id)?.valid).toBe(1);

      plain.mirror.revokeAuthorization('41', Date.now());
      plain.mirror.endSubscription(fx.hook.id, '42', Date.now());
      plain.webhooks.setWebhookValid(fx.hook.id, false, Date.now());

      expect(counted.mirror.activeScope('41')).toBeNull();
      expect(counted.mirror.subscribedSince(fx.hook.id, '41', Date.now())).toBe(false);
      expect(counted.mirror.subscribedSince(fx.hook.id, '42', Date.now())).toBe(false);
      expect(counted.mirror.liveSubscriptionsOf('42')).toEqual([]);
      expect(counted.webhooks.get(fx.hook.id)?.valid).toBe(0);
    });
  });

  it("sees a reconcile's narrowing, made through the drift store, at once", async () => {
    const fx = await appWithWebhook({ subscribers: ['44', '45'] });
    await withStore(fx.app.id, (_store, state) => {
      const reader = new AppStore(countingSql(state.storage.sql));
      const writer = new AppStore(state.storage.sql);
      expect(reader.mirror.activeScope('44')).toContain('tweet.read');
      expect(reader.mirror.subscribedSince(fx.hook.id, '45', Date.now())).toBe(true);
      const grant = reader.mirror.liveAuthorization('44')!;
      const subscription = writer.mirrorDrift.rows().subscriptions.find((s) => s.user_id === '45' && s.ended_at === null)!;
      writer.mirrorDrift.setAuthorizationScope(grant.id!, 'users.read');
      writer.mirrorDrift.endRow('subscriptions', subscription.id!, Date.now());
      expect(reader.mirror.activeScope('44')).toBe('users.read');
      expect(reader.mirror.subscribedSince(fx.hook.id, '45', Date.now())).toBe(false);
    });
  });

  it('sees a suspension and a deleted webhook at once', async () => {
    const fx = await appWithWebhook({ subscribers: ['43'] });
    await withStore(fx.app.id, (_store, state) => {
      const reader = new AppStore(countingSql(state.storage.sql));
      const writer = new AppStore(state.storage.sql);
      expect(reader.tenant.get()?.status).toBe('active');
      expect(reader.mirror.liveSubscriptionsOf('43')).toHaveLength(1);
      writer.tenant.setStatus('suspended', Date.now() + 1);
      writer.mirror.deleteWebhook(fx.hook.id, Date.now());
      expect(reader.tenant.get()?.status).toBe('suspended');
      expect(reader.mirror.liveSubscriptionsOf('43')).toEqual([]);
      expect(reader.webhooks.get(fx.hook.id)?.deleted_at).not.toBeNull();
    });
  });

  it('needs forgetMirrorCache after a raw SQL write, and answers from storage after it', async () => {
    const fx = await appWithWebhook({ subscribers: ['44'] });
    await withStore(fx.app.id, (store, state) => {
      const since = Date.now() - 60_000;
      expect(store.mirror.subscribedSince(fx.hook.id, '44', since)).toBe(false); // subscribed just now
      state.storage.sql.exec('UPDATE subscriptions SET started_at = started_at - 120000');
      forgetMirrorCache(state.storage.sql);
      expect(store.mirror.subscribedSince(fx.hook.id, '44', since)).toBe(true);
    });
  });
});
