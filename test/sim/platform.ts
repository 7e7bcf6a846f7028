import type { TimedActivity } from '../../src/domain/activities';
import { audienceOf } from '../../src/domain/audience';
import type { Withdrawal } from '../../src/domain/delivery-protocol';
import { xaaScopeOf, xaaUsersOf } from '../../src/domain/xaa-events';
import type { D1XaaSubscription } from './d1-model';
import { FENCE_MARGIN_MS, type World } from './world';

/**
 * The simulator's Worker side: fan-out of new activities, and the control-plane routes in the same
 * order of writes as src/routes (widening: D1 then the object; narrowing: the object, then D1 at the
 * moment it took effect, then the fence). A route whose object call fails is retried, as a platform
 * retries a failed request; every retry must be safe.
 */
export const SCOPES = ['tweet.read', 'like.read', 'follows.read', 'dm.read'] as const;
/** XAA event types the world subscribes to: public (post.create) and private ones. */
const XAA_TYPES = ['post.create', 'post.mention.create', 'dm.received', 'like.create', 'follow.follow'] as const;
const ROUTE = 'route';

export class Platform {
  private activity = 1;
  readonly users: string[];

  constructor(
    private readonly world: World,
    users: number,
  ) {
    this.users = Array.from({ length: users }, (_, i) => String(101 + i));
  }

  private get d1() {
    return this.world.d1;
  }

  /** Apps, webhooks (the same URLs across apps, as in 2018), grants and subscriptions, without faults. */
  async setup(apps: number, webhooksPerApp: number): Promise<void> {
    for (let a = 0; a < apps; a++) {
      const appId = String(11 + a);
      const app = this.world.addApp(appId);
      await app.api.provision(appId, `secret-${appId}`, 'pending', this.world.now);
      this.d1.apps.set(appId, { id: appId, status: 'active', statusAt: this.world.now });
      await app.api.setAppStatus(appId, 'active', this.world.now);
      for (let w = 0; w < webhooksPerApp; w++) await this.addWebhookNow(appId, w);
      for (const user of this.users) {
        if (this.world.rng.chance(0.8)) {
          const auth = this.d1.newId();
          const scope = this.randomScope();
          this.d1.authorizations.set(auth, { id: auth, appId, userId: user, scope, start: this.world.now, end: null });
          await app.api.grantAuthorization(appId, { authorizationId: auth, userId: user, scope, at: this.world.now });
          for (const webhook of this.d1.liveWebhooks(appId)) {
            if (!this.world.rng.chance(0.7)) continue;
            const id = this.d1.newId();
            this.d1.subscriptions.set(id, { id, appId, webhookId: webhook.id, userId: user, start: this.world.now, end: null });
            await app.api.addSubscription(appId, { id, webhookId: webhook.id, userId: user, authorizationId: auth, at: this.world.now });
          }
        }
        // X Activity API subscriptions too, public ones for users who never authorized the app.
        for (let n = 0; n < 2; n++) {
          const sub = this.newXaaSubscription(appId, user);
          if (sub) await app.api.putXaaSubscription(appId, this.xaaRecord(sub));
        }
      }
    }
  }

  /** A new XAA subscription in D1 (widening: D1 first), if the rules allow one; null if not. */
  private newXaaSubscription(appId: string, userId: string): D1XaaSubscription | null {
    const { rng } = this.world;
    const eventType = rng.pick(XAA_TYPES);
    const scope = xaaScopeOf(eventType);
    const auth = this.d1.liveAuthorization(appId, userId);
    if (scope && !auth?.scope.split(' ').includes(scope)) return null;
    const webhooks = this.d1.liveWebhooks(appId).filter((w) => w.valid);
    const webhookId = webhooks.length > 0 && rng.chance(0.7) ? rng.pick(webhooks).id : null;
    const id = this.d1.newId();
    const now = this.world.now;
    const sub = {
      id,
      appId,
      eventType,
      userId,
      webhookId,
      authorizationId: scope ? auth!.id : null,
      start: now,
      end: null,
      updatedAt: now,
    };
    this.d1.xaaSubscriptions.set(id, sub);
    return sub;
  }

  private xaaRecord(sub: D1XaaSubscription) {
    return {
      id: sub.id,
      eventType: sub.eventType,
      userId: sub.userId,
      direction: null,
      keyword: null,
      tag: null,
      webhookId: sub.webhookId,
      authorizationId: sub.authorizationId,
      at: sub.updatedAt,
    };
  }

  private async addWebhookNow(appId: string, slot: number): Promise<void> {
    const id = this.d1.newId();
    const url = `https://shared.example/hook${slot}`;
    await this.world.apps.get(appId)!.api.addWebhook(appId, { id, url, createdAt: this.world.now });
    this.d1.webhooks.set(id, { id, appId, url, valid: true, validAt: this.world.now, deleted: false });
  }

  private randomScope(): string {
    const scopes = SCOPES.filter(() => this.world.rng.chance(0.6));
    return [...(scopes.length ? scopes : ['tweet.read'])].sort().join(' ');
  }

  // ---- ingest ---------------------------------------------------------------------------------

  /** A new activity: fan-out by D1, each app's share ingested by its object, releases to the queue. */
  async ingest(): Promise<void> {
    const { rng } = this.world;
    const user = () => ({ id: rng.pick(this.users), name: 'n', screen_name: 's' });
    const id = `a${this.activity++}`;
    const kind = rng.weighted({ tweet: 5, dm: 3, like: 2, follow: 2 });
    const base = { id, created_at: this.world.now };
    let activity: TimedActivity;
    if (kind === 'tweet') {
      activity = {
        ...base,
        type: 'tweet_create',
        tweet: { id: id.slice(1), text: 'hi', author: user(), mentions: [rng.pick(this.users)] },
      };
    } else if (kind === 'dm') {
      activity = { ...base, type: 'direct_message', message: { id: id.slice(1), sender: user(), recipient: user(), text: 'psst' } };
    } else if (kind === 'like') {
      activity = { ...base, type: 'favorite', user: user(), tweet: { id: '5', text: 't', author: user() } };
    } else {
      activity = { ...base, type: 'follow', source: user(), target: user() };
    }
    const eventId = String(9_000_000 + this.activity);
    this.world.stats.ingested++;
    for (const appId of this.d1.appsFor([...audienceOf(activity), ...xaaUsersOf(activity)])) {
      // The platform re-posts until the app's share is in (the service's own retry does the same).
      const result = await this.retry(() =>
        this.world.call(appId, ROUTE, (api) => {
          const r = api.ingest(appId, [{ eventId, activity }]);
          this.world.checkIngest(appId, eventId);
          return r;
        }),
      );
      if (!result) continue;
      const [fast, slow] = result.releases;
      // The Worker's queue send can fail too: the object's release lease recovers those.
      if (this.world.faults && rng.chance(0.02)) continue;
      for (const body of fast) this.world.queues.fast.push({ body, availableAt: this.world.now, attempts: 0 });
      for (const body of slow) this.world.queues.slow.push({ body, availableAt: this.world.now, attempts: 0 });
    }
  }

  // ---- control plane --------------------------------------------------------------------------

  /** Starts one random control-plane change; it runs on over later steps. */
  async randomChange(): Promise<void> {
    const { rng } = this.world;
    const appId = rng.pick([...this.world.apps.keys()]);
    const user = rng.pick(this.users);
    const webhooks = this.d1.liveWebhooks(appId);
    const webhook = webhooks.length ? rng.pick(webhooks) : undefined;
    const change = rng.weighted({
      subscribe: 6,
      unsubscribe: 3,
      grant: 3,
      revoke: 2,
      suspend: 0.2,
      approve: 1,
      delete: 0.7,
      add: 1,
      invalidate: 1,
      validate: 1.5,
      xaaCreate: 2,
      xaaDelete: 1,
      xaaMove: 1,
      test: 0.5,
    });
    switch (change) {
      case 'subscribe':
        if (webhook) await this.subscribe(appId, webhook.id, user);
        return;
      case 'unsubscribe':
        if (webhook) await this.unsubscribe(appId, webhook.id, user);
        return;
      case 'grant':
        return this.grant(appId, user, this.randomScope());
      case 'revoke':
        return this.revoke(appId, user);
      case 'suspend':
        return this.suspend(appId);
      case 'approve':
        return this.approve(appId);
      case 'delete':
        if (webhook) await this.deleteWebhook(appId, webhook.id);
        return;
      case 'add':
        if (webhooks.length < 3) await this.retry(() => this.addWebhookNow(appId, rng.int(3)));
        return;
      case 'invalidate':
        if (webhook) await this.setValid(appId, webhook.id, false);
        return;
      case 'validate':
        if (webhook) await this.setValid(appId, webhook.id, true);
        return;
      case 'test':
        // A developer's test event: the portal's route calls the object alone (no D1 write).
        if (webhook) await this.retry(() => this.world.call(appId, ROUTE, (api) => api.sendTestEvent(appId, webhook.id)));
        return;
      case 'xaaCreate':
        return this.xaaCreate(appId, user);
      case 'xaaDelete':
        return this.xaaDelete(appId);
      case 'xaaMove':
        return this.xaaMove(appId);
    }
  }

  private async xaaCreate(appId: string, userId: string): Promise<void> {
    const sub = this.newXaaSubscription(appId, userId);
    if (!sub) return;
    this.world.trace(`xaa create ${appId}/${sub.id} ${sub.eventType} for ${userId} to ${sub.webhookId}`);
    const refused = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.putXaaSubscription(appId, this.xaaRecord(sub))));
    this.world.trace(`xaa create ${appId}/${sub.id} answered ${refused}`);
    if (refused && sub.end === null) sub.end = this.world.now;
  }

  private async xaaDelete(appId: string): Promise<void> {
    const live = this.d1.liveXaa(appId);
    if (live.length === 0) return;
    const sub = this.world.rng.pick(live);
    this.world.trace(`xaa delete ${appId}/${sub.id}`);
    const w = await this.retry(() =>
      this.world.call(appId, ROUTE, (api) => api.endXaaSubscriptions(appId, [{ id: sub.id, userId: sub.userId }])),
    );
    if (!w) return;
    this.endInD1(w);
    await this.fence(w, { appId, xaaSubscriptionIds: [sub.id], what: `delete of XAA subscription ${sub.id}` });
  }

  /**
   * A move to another webhook, as the route does it: the old webhook is taken away in the object as
   * of the version read (then the fence), D1 records the next version only if it is still the one
   * read (else start over), then the object takes it.
   */
  private async xaaMove(appId: string): Promise<void> {
    const live = this.d1.liveXaa(appId);
    const webhooks = this.d1.liveWebhooks(appId).filter((w) => w.valid);
    if (live.length === 0 || webhooks.length === 0) return;
    const sub = this.world.rng.pick(live);
    const target = this.world.rng.pick(webhooks).id;
    for (let round = 0; round < 5; round++) {
      if (sub.end !== null || target === sub.webhookId) return;
      const { webhookId: old, updatedAt: version } = sub;
      this.world.trace(`xaa move ${appId}/${sub.id} from ${old} (v${version}) to ${target}`);
      const narrowed = old
        ? await this.retry(() => this.world.call(appId, ROUTE, (api) => api.untargetXaaSubscription(appId, sub.id, sub.userId, version)))
        : null;
      if (old && !narrowed) return;
      const current = sub.end === null && sub.updatedAt === version;
      if (current) {
        sub.webhookId = target;
        sub.updatedAt = Math.max(this.world.now, narrowed?.effectiveAt ?? 0, version + 1);
      }
      if (narrowed)
        await this.fence(narrowed, { appId, webhookId: old!, xaaSubscriptionIds: [sub.id], what: `move of ${sub.id} off ${old}` });
      if (!current) continue;
      const refused = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.putXaaSubscription(appId, this.xaaRecord(sub))));
      this.world.trace(`xaa move ${appId}/${sub.id} put v${sub.updatedAt} answered ${refused}`);
      // The route ends D1's row on any refusal (xaa-subscriptions.ts, refusedByObject).
      if (refused && sub.end === null) sub.end = this.world.now;
      return;
    }
  }

  private async subscribe(appId: string, webhookId: string, userId: string): Promise<void> {
    this.world.trace(`subscribe ${appId}/${webhookId}/${userId}`);
    const auth = this.d1.liveAuthorization(appId, userId);
    const webhook = this.d1.webhooks.get(webhookId)!;
    if (!auth || webhook.deleted || !webhook.valid || this.d1.liveSubscription(webhookId, userId)) return;
    const id = this.d1.newId();
    const sub = { id, appId, webhookId, userId, start: this.world.now, end: null as number | null };
    this.d1.subscriptions.set(id, sub);
    const at = this.world.now;
    const refused = await this.retry(() =>
      this.world.call(appId, ROUTE, (api) => api.addSubscription(appId, { id, webhookId, userId, authorizationId: auth.id, at })),
    );
    if (refused && sub.end === null) sub.end = this.world.now;
  }

  private async unsubscribe(appId: string, webhookId: string, userId: string): Promise<void> {
    const sub = this.d1.liveSubscription(webhookId, userId);
    if (!sub) return;
    const w = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.endSubscription(appId, webhookId, userId, sub.id)));
    if (!w) return;
    this.endInD1(w);
    await this.fence(w, { appId, webhookId, userId, what: `unsubscribe ${userId} from ${webhookId}` });
  }

  /**
   * A (re-)grant: the object first loses what the new scope lacks, then D1 swaps the grant only if
   * the one it restricted is still the live one (else a concurrent grant won; start over), then the
   * object takes the new grant.
   */
  private async grant(appId: string, userId: string, scope: string): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const previous = this.d1.liveAuthorization(appId, userId);
      this.world.trace(`grant ${appId}/${userId} "${scope}" (previous ${previous?.id} "${previous?.scope}")`);
      const narrowed = previous
        ? await this.retry(() => this.world.call(appId, ROUTE, (api) => api.restrictAuthorization(appId, userId, scope, previous.id)))
        : null;
      if (previous && !narrowed) return;
      if (this.d1.liveAuthorization(appId, userId)?.id !== previous?.id) continue;
      const at = Math.max(this.world.now, narrowed?.effectiveAt ?? 0);
      const removed = previous ? previous.scope.split(' ').filter((s) => !scope.split(' ').includes(s)) : [];
      const supersedes = previous ? [previous.id] : [];
      if (previous) previous.end = at;
      const id = this.d1.newId();
      this.d1.authorizations.set(id, { id, appId, userId, scope, start: at, end: null });
      this.world.trace(`grant ${appId}/${userId}: D1 ${id} "${scope}", superseding ${supersedes.join(',')}`);
      const granted = await this.retry(() =>
        this.world.call(appId, ROUTE, (api) => api.grantAuthorization(appId, { authorizationId: id, userId, scope, at, supersedes })),
      );
      if (narrowed && removed.length > 0) {
        const later = granted && granted.fenceWaitMs > narrowed.fenceWaitMs ? { ...granted, effectiveAt: narrowed.effectiveAt } : narrowed;
        await this.fence(later, { appId, userId, removedScopes: removed, what: `re-grant of ${userId} without ${removed.join(',')}` });
      }
      return;
    }
  }

  private async revoke(appId: string, userId: string): Promise<void> {
    const auth = this.d1.liveAuthorization(appId, userId);
    if (!auth) return;
    this.world.trace(`revoke ${appId}/${userId} (${auth.id})`);
    const w = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.revokeAuthorization(appId, userId, auth.id)));
    if (!w) return;
    this.endInD1(w);
    this.world.trace(`revoke ${appId}/${userId}: D1 ended`);
    await this.fence(w, { appId, userId, what: `revoke of ${userId}` });
  }

  private async suspend(appId: string): Promise<void> {
    const app = this.d1.apps.get(appId)!;
    if (app.status !== 'active') return;
    const w = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.setAppStatus(appId, 'suspended', this.world.now)));
    if (!w) return;
    // Newer wins in D1 too: an approval that landed meanwhile is not overwritten.
    if (app.statusAt <= w.effectiveAt) {
      app.status = 'suspended';
      app.statusAt = w.effectiveAt;
    }
    await this.fence(w, { appId, what: `suspension of ${appId}` });
  }

  private async approve(appId: string): Promise<void> {
    const app = this.d1.apps.get(appId)!;
    if (app.status === 'suspended') {
      app.status = 'active';
      app.statusAt = this.world.now;
    }
    const at = app.statusAt;
    await this.retry(() => this.world.call(appId, ROUTE, (api) => api.setAppStatus(appId, 'active', at)));
  }

  private async deleteWebhook(appId: string, webhookId: string): Promise<void> {
    const w = await this.retry(() => this.world.call(appId, ROUTE, (api) => api.deleteWebhook(appId, webhookId)));
    if (!w) return;
    this.d1.webhooks.get(webhookId)!.deleted = true;
    this.endInD1(w);
    await this.fence(w, { appId, webhookId, what: `delete of webhook ${webhookId}` });
  }

  /** A CRC outcome: invalid reaches the object first, valid reaches D1 first. */
  private async setValid(appId: string, webhookId: string, valid: boolean): Promise<void> {
    const webhook = this.d1.webhooks.get(webhookId)!;
    const at = this.world.now;
    const record = () => {
      if (webhook.validAt > at) return; // a later CRC outcome is already recorded
      webhook.valid = valid;
      webhook.validAt = at;
    };
    if (valid) record();
    await this.retry(() => this.world.call(appId, ROUTE, (api) => api.setWebhookValid(appId, webhookId, valid, at)));
    if (!valid) record();
  }

  /** D1 ends exactly the rows the object ended, at the moment it ended them. */
  private endInD1(w: Withdrawal): void {
    for (const id of w.ended.authorizations) {
      const a = this.d1.authorizations.get(id);
      if (a && a.end === null) a.end = w.effectiveAt;
    }
    for (const id of w.ended.subscriptions) {
      const sub = this.d1.subscriptions.get(id);
      if (sub && sub.end === null) sub.end = w.effectiveAt;
    }
    for (const id of w.ended.xaaSubscriptions) {
      const sub = this.d1.xaaSubscriptions.get(id);
      if (sub && sub.end === null) sub.end = w.effectiveAt;
    }
  }

  /** The Worker waits out the fence, then the withdrawal is answered: from then on nothing in scope may start. */
  private async fence(
    w: Withdrawal,
    scope: { appId: string; webhookId?: string; userId?: string; removedScopes?: string[]; xaaSubscriptionIds?: string[]; what: string },
  ) {
    this.world.stats.withdrawals++;
    const skipFence = this.world.mutation === 'no-fence';
    if (w.fenceWaitMs > 0) this.world.stats.fencedWithdrawals++;
    if (w.fenceWaitMs > 0 && !skipFence) await this.world.sleepUntil(this.world.now + w.fenceWaitMs + FENCE_MARGIN_MS);
    this.world.withdrawals.push({ ...scope, effectiveAt: w.effectiveAt, returnedAt: this.world.now });
  }

  /** Calls until it succeeds (a platform retrying a failed request); null if the world ends first. */
  private async retry<T>(call: () => Promise<T>): Promise<T | null> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      try {
        return await call();
      } catch {
        await this.world.sleepUntil(this.world.now + 500);
      }
    }
    return null;
  }
}
