import { hasScope } from '../../domain/audience';
import { type EntitlementView, grantsHeldThroughout } from '../../domain/entitlement';
import { xaaScopeOf } from '../../domain/xaa-events';
import { boundUsers, forgetGrants, type MirrorCache, mirrorCacheOf } from './mirror-cache';
import type { TenantStore } from './tenant-store';
import type { WebhookMirrorStore } from './webhook-mirror-store';
import type { XaaMirrorStore } from './xaa-mirror-store';

export type MirrorRow = { id: string | null; user_id: string; started_at: number; ended_at: number | null };
export type MirrorAuthorization = MirrorRow & { scope: string };
export type MirrorSubscription = MirrorRow & { webhook_id: string };

/**
 * The D1 ids of every row in a withdrawal's scope that has ended here (by this withdrawal or an
 * earlier one). D1 ends exactly these: a retried withdrawal still finishes what its first try did,
 * and a grant or subscribe that reached this object after the withdrawal is not ended in D1 either.
 */
export interface EndedRows {
  authorizations: string[];
  subscriptions: string[];
  /** X Activity API subscriptions (xaa-mirror-store.ts). */
  xaaSubscriptions: string[];
}

const ids = (rows: { id: string | null }[]) => rows.map((r) => r.id).filter((id): id is string => id !== null);

/** Why a late "add" was refused: the object already saw this row (or its scope) end. */
export type AddRefusal = 'ended' | 'webhook_gone' | 'authorization_not_live';

/**
 * The app object's own copy of its tenant's authorizations and subscriptions, with their history,
 * keyed by their D1 ids (its tenant record and webhooks: tenant-store.ts, webhook-mirror-store.ts; the
 * drift check's and the reconcile's view of it: mirror-drift-store.ts). The object re-checks
 * entitlement from this copy (docs/delivery.md, "Who may receive what") without trusting the lookup
 * that routed an event to it.
 *
 * How it stays in step with D1 without ever being wider: a change that narrows (suspend, revoke,
 * unsubscribe, delete, invalidate) reaches the object first and D1 second; a change that widens
 * (approve, grant, subscribe, validate) reaches D1 first and the object second. An ended row is never
 * revived, and an end that arrives before its start leaves a tombstone that refuses the late start,
 * so racing calls converge whatever order they land in. Status and validity changes carry their time
 * and only a newer one applies.
 */
export class MirrorStore {
  private readonly cache: MirrorCache;

  constructor(
    private readonly sql: SqlStorage,
    private readonly tenant: TenantStore,
    private readonly webhooks: WebhookMirrorStore,
    /** The app's XAA subscriptions: webhook deletes and revokes end them too, and the view answers for them. */
    readonly xaa: XaaMirrorStore,
  ) {
    this.cache = mirrorCacheOf(sql);
  }

  /** Deleting a webhook ends every subscription on it, XAA subscriptions that deliver to it included. */
  deleteWebhook(webhookId: string, at: number): EndedRows {
    this.cache.webhooks.delete(webhookId);
    forgetGrants(this.cache);
    this.sql.exec('UPDATE webhooks SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL', at, webhookId);
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE webhook_id = ? AND ended_at IS NULL', at, webhookId);
    this.xaa.endForWebhook(webhookId, at);
    return this.endedIn({ webhookId });
  }

  /**
   * A grant (D1 id `authorizationId`) supersedes the user's live one here and the D1 rows it ended
   * there (`supersedes`, tombstoned if this object never saw them, so their own late grants are
   * refused). Refused if this id was ended already (the grant lost a race with a revoke or a newer
   * grant).
   */
  grantAuthorization(authorizationId: string, userId: string, scope: string, at: number, supersedes: string[] = []): AddRefusal | null {
    forgetGrants(this.cache);
    for (const id of supersedes) {
      if (id === authorizationId) continue;
      this.sql.exec('UPDATE authorizations SET ended_at = ? WHERE id = ? AND ended_at IS NULL', at, id);
      this.tombstone('authorizations', id, userId, at, { scope: '' });
    }
    const known = this.sql.exec<MirrorAuthorization>('SELECT * FROM authorizations WHERE id = ?', authorizationId).toArray()[0];
    if (known) return known.ended_at === null ? null : 'ended';
    this.sql.exec('UPDATE authorizations SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
    this.sql.exec('INSERT INTO authorizations (id, user_id, scope, started_at) VALUES (?, ?, ?, ?)', authorizationId, userId, scope, at);
    return null;
  }

  /**
   * Before a re-grant: the user's live authorization keeps only the scopes it shares with `scope`.
   * `previousId` is the D1 grant being replaced; if this object has not seen it yet (its grant is
   * still on its way), it is recorded now with no scope at all, so when it arrives it cannot widen
   * anything.
   */
  restrictAuthorization(userId: string, scope: string, previousId: string | undefined, at: number): void {
    forgetGrants(this.cache);
    if (previousId !== undefined && this.sql.exec('SELECT 1 FROM authorizations WHERE id = ?', previousId).toArray().length === 0) {
      this.grantAuthorization(previousId, userId, '', at);
      return;
    }
    const live = this.liveAuthorization(userId);
    if (!live) return;
    const allowed = new Set(scope.split(' '));
    const narrowed = live.scope
      .split(' ')
      .filter((s) => allowed.has(s))
      .join(' ');
    this.sql.exec('UPDATE authorizations SET scope = ? WHERE user_id = ? AND ended_at IS NULL', narrowed, userId);
    forgetGrants(this.cache); // the read above cached the row as it was before this write
  }

  /**
   * Revocation ends the user's authorization and every subscription of that user in this app (of XAA
   * subscriptions, those of private events: the public ones never rested on an authorization). With
   * the D1 id of the authorization being revoked, an id this object never saw start is tombstoned,
   * so its grant, if it arrives late, is refused.
   */
  revokeAuthorization(userId: string, at: number, authorizationId?: string): EndedRows {
    forgetGrants(this.cache);
    this.sql.exec('UPDATE authorizations SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL', at, userId);
    this.xaa.endForUser(userId, at, (row) => xaaScopeOf(row.event_type) !== null);
    if (authorizationId !== undefined) this.tombstone('authorizations', authorizationId, userId, at, { scope: '' });
    return this.endedIn({ userId });
  }

  /**
   * Starts subscription `id` unless it already ended here, its webhook is gone, or the authorization
   * it was created under is not live here: a late start never resurrects what a withdrawal ended.
   */
  addSubscription(sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number }): AddRefusal | null {
    forgetGrants(this.cache);
    const known = this.sql.exec<MirrorSubscription>('SELECT * FROM subscriptions WHERE id = ?', sub.id).toArray()[0];
    if (known) return known.ended_at === null ? null : 'ended';
    const webhook = this.webhooks.get(sub.webhookId);
    if (!webhook || webhook.deleted_at !== null) return 'webhook_gone';
    const authorization = this.sql
      .exec<MirrorAuthorization>('SELECT * FROM authorizations WHERE id = ? AND ended_at IS NULL', sub.authorizationId)
      .toArray()[0];
    if (!authorization || authorization.user_id !== sub.userId) return 'authorization_not_live';
    this.sql.exec(
      'INSERT INTO subscriptions (id, webhook_id, user_id, started_at) VALUES (?, ?, ?, ?)',
      sub.id,
      sub.webhookId,
      sub.userId,
      sub.at,
    );
    return null;
  }

  /** Ends the user's live subscription on the webhook; with an id this object never saw, a tombstone. */
  endSubscription(webhookId: string, userId: string, at: number, id?: string): EndedRows {
    forgetGrants(this.cache);
    this.sql.exec('UPDATE subscriptions SET ended_at = ? WHERE webhook_id = ? AND user_id = ? AND ended_at IS NULL', at, webhookId, userId);
    if (id !== undefined) this.tombstone('subscriptions', id, userId, at, { webhook_id: webhookId });
    return this.endedIn({ webhookId, userId });
  }

  /**
   * Ended rows in a scope (see EndedRows). Authorizations only for a user's scope; XAA subscriptions
   * for a user's scope (revoke) or a webhook's (delete), not for one user on one webhook (AAA's
   * unsubscribe, which leaves XAA alone).
   */
  endedIn(scope: { webhookId?: string; userId?: string }): EndedRows {
    const subClauses = ['ended_at IS NOT NULL', 'id IS NOT NULL'];
    const args: string[] = [];
    if (scope.webhookId !== undefined) {
      subClauses.push('webhook_id = ?');
      args.push(scope.webhookId);
    }
    if (scope.userId !== undefined) {
      subClauses.push('user_id = ?');
      args.push(scope.userId);
    }
    const subscriptions = this.sql
      .exec<{ id: string | null }>(`SELECT id FROM subscriptions WHERE ${subClauses.join(' AND ')}`, ...args)
      .toArray();
    const authorizations =
      scope.userId !== undefined && scope.webhookId === undefined
        ? this.sql
            .exec<{ id: string | null }>(
              'SELECT id FROM authorizations WHERE user_id = ? AND ended_at IS NOT NULL AND id IS NOT NULL',
              scope.userId,
            )
            .toArray()
        : [];
    const xaaSubscriptions = scope.webhookId !== undefined && scope.userId !== undefined ? [] : this.xaa.endedIn(scope);
    return { authorizations: ids(authorizations), subscriptions: ids(subscriptions), xaaSubscriptions };
  }

  /** Records that row `id` ended before this object saw it start (nothing if the object knows the row). */
  private tombstone(
    table: 'authorizations' | 'subscriptions',
    id: string,
    userId: string,
    at: number,
    extra: Record<string, string>,
  ): void {
    const known = this.sql.exec(`SELECT 1 FROM ${table} WHERE id = ?`, id).toArray().length > 0;
    if (known) return;
    const [column, value] = Object.entries(extra)[0];
    this.sql.exec(`INSERT INTO ${table} (id, user_id, ${column}, started_at, ended_at) VALUES (?, ?, ?, ?, ?)`, id, userId, value, at, at);
  }

  liveAuthorization(userId: string): MirrorAuthorization | undefined {
    let live = this.cache.authorizations.get(userId);
    if (live === undefined) {
      boundUsers(this.cache);
      live =
        this.sql.exec<MirrorAuthorization>('SELECT * FROM authorizations WHERE user_id = ? AND ended_at IS NULL', userId).toArray()[0] ??
        null;
      this.cache.authorizations.set(userId, live);
    }
    return live ?? undefined;
  }

  /** The user's live subscriptions (webhook and start), whether or not their webhook still exists. */
  private liveSubscriptionRows(userId: string): { webhook_id: string; started_at: number }[] {
    let rows = this.cache.subscriptions.get(userId);
    if (rows === undefined) {
      boundUsers(this.cache);
      rows = this.sql
        .exec<{ webhook_id: string; started_at: number }>(
          'SELECT webhook_id, started_at FROM subscriptions WHERE user_id = ? AND ended_at IS NULL',
          userId,
        )
        .toArray();
      this.cache.subscriptions.set(userId, rows);
    }
    return rows;
  }

  /** The user's live authorization scope in this app, or null. */
  activeScope(userId: string): string | null {
    return this.liveAuthorization(userId)?.scope ?? null;
  }

  /**
   * Whether the user's grants here held `scope` from `since` on. The live grant alone answers when it
   * began by then (changes in place only narrow); otherwise the grants it replaced are read. A
   * restriction narrows a grant in place, so a scope taken away and given back shows as a break.
   */
  private scopeHeldSince(userId: string, scope: string, since: number, now: number): boolean {
    const live = this.liveAuthorization(userId);
    if (!live || !hasScope(live.scope, scope)) return false;
    if (live.started_at <= since) return true;
    const grants = this.sql
      .exec<{ scope: string; started_at: number; ended_at: number | null }>(
        'SELECT scope, started_at, ended_at FROM authorizations WHERE user_id = ? AND (ended_at IS NULL OR ended_at > ?)',
        userId,
        since,
      )
      .toArray()
      .map((g) => ({ scope: g.scope, startedAt: g.started_at, endedAt: g.ended_at }));
    return grantsHeldThroughout(grants, scope, since, now);
  }

  /** Live subscriptions of a user on webhooks that still exist, with each webhook's validity. */
  liveSubscriptionsOf(userId: string): { webhookId: string; valid: boolean }[] {
    const live: { webhookId: string; valid: boolean }[] = [];
    for (const { webhook_id } of this.liveSubscriptionRows(userId)) {
      const webhook = this.webhooks.get(webhook_id);
      if (webhook && webhook.deleted_at === null) live.push({ webhookId: webhook_id, valid: webhook.valid === 1 });
    }
    return live;
  }

  /** The subscription live now began at or before `at` (so it covered an event ingested then). */
  subscribedSince(webhookId: string, userId: string, at: number): boolean {
    return this.liveSubscriptionRows(userId).some((s) => s.webhook_id === webhookId && s.started_at <= at);
  }

  /**
   * This object's facts for the entitlement rule. The mirror answers about the present only (its
   * clock is the object's): the status and webhooks as they are now, and a subscription that is
   * live now and began no later than `since`.
   */
  view(): EntitlementView {
    return {
      appStatusAt: () => this.tenant.get()?.status ?? null,
      appActiveThroughout: (since) => {
        const tenant = this.tenant.get();
        return tenant?.status === 'active' && tenant.statusChangedAt <= since;
      },
      webhookAt: (webhookId) => {
        const webhook = this.webhooks.get(webhookId);
        return webhook && webhook.deleted_at === null ? { valid: webhook.valid === 1 } : null;
      },
      subscriptionCovers: (webhookId, userId, since) => this.subscribedSince(webhookId, userId, since),
      xaaSubscriptionCovers: (id, webhookId, userId, since) => this.xaa.covers(id, webhookId, userId, since),
      scopeAt: (userId) => this.activeScope(userId),
      scopeHeldThroughout: (userId, scope, since, t) => this.scopeHeldSince(userId, scope, since, t),
    };
  }
}
