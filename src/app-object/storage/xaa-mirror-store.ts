import type { Direction } from '../../domain/xaa-events';
import { type MirrorCache, mirrorCacheOf } from './mirror-cache';
import { type DriftRange, driftRows } from './mirror-drift-store';

/**
 * The object's mirror of its app's X Activity API subscriptions (docs/xaa.md), beside the Account
 * Activity mirror in mirror-store.ts and under the same rules (docs/delivery.md, "D1 and the objects
 * agree"): rows are keyed by D1 id and never wider than D1. Widening writes (create, a new target
 * webhook, a tag) reach D1 first and arrive here as a `put` of D1's row; narrowing ones (delete, a
 * target taken away, revoke, webhook delete) happen here first. Each D1 version of a row has a
 * strictly larger `updated_at` (D1 changes a row only from the version it read), and the object
 * keeps the version it holds: a put applies only if it is newer, and taking the webhook away "as of
 * version v" counts as v + ½, so it outranks v (a move's old target, still on its way) but not
 * v + 1 (the move's new target). Racing calls converge whatever order they land in; an end is never
 * undone.
 */
export type XaaMirrorRow = {
  id: string;
  /** '' while only a narrowing has been seen (a placeholder that matches no event). */
  event_type: string;
  user_id: string;
  direction: Direction | null;
  keyword: string | null;
  tag: string | null;
  /** The webhook it delivers to, besides the stream; null: the stream only. */
  webhook_id: string | null;
  /** Since when it targets `webhook_id`: it covers only events ingested after that. */
  target_changed_at: number;
  /** The D1 authorization a private subscription was created under; null for public events. */
  authorization_id: string | null;
  started_at: number;
  ended_at: number | null;
  version_at: number;
};

/** D1's row of one subscription, as a widening write brings it. */
export interface XaaSubscriptionRecord {
  id: string;
  eventType: string;
  userId: string;
  direction: Direction | null;
  keyword: string | null;
  tag: string | null;
  webhookId: string | null;
  authorizationId: string | null;
  /** The D1 version: when D1 recorded it (creation or update), strictly increasing per row. */
  at: number;
}

/** Taking the webhook away as of version v outranks v, not v + 1. */
const AFTER = 0.5;

export class XaaMirrorStore {
  /** Which event types have a live subscription, so ingest asks SQL only for those (mirror-cache.ts). */
  private readonly cache: MirrorCache;

  constructor(private readonly sql: SqlStorage) {
    this.cache = mirrorCacheOf(sql);
  }

  /**
   * Called first by every write: the live event types may change. Forgetting before the write is
   * enough here, because no write reads the memo back (only `liveFor` fills it).
   */
  private forgetLiveTypes(): void {
    this.cache.xaaEventTypes = undefined;
  }

  get(id: string): XaaMirrorRow | undefined {
    return this.sql.exec<XaaMirrorRow>('SELECT * FROM xaa_subscriptions WHERE id = ?', id).toArray()[0];
  }

  /**
   * D1's version of a subscription, applied as of `now` (it covers events ingested from then on).
   * The caller has checked that it may start (webhook live, authorization live). Returns 'ended' if
   * this object already saw it end; a version older than the one held changes nothing.
   */
  put(record: XaaSubscriptionRecord, now: number): 'ended' | null {
    this.forgetLiveTypes();
    const known = this.get(record.id);
    if (known?.ended_at != null) return 'ended';
    if (!known) {
      this.sql.exec(
        `INSERT INTO xaa_subscriptions (id, event_type, user_id, direction, keyword, tag, webhook_id, target_changed_at,
           authorization_id, started_at, version_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        record.id,
        record.eventType,
        record.userId,
        record.direction,
        record.keyword,
        record.tag,
        record.webhookId,
        now,
        record.authorizationId,
        now,
        record.at,
      );
      return null;
    }
    if (known.version_at >= record.at) return null;
    // A placeholder learns what it is; a live row takes the new tag and, if it moved, the new target.
    const moved = known.webhook_id !== record.webhookId;
    this.sql.exec(
      `UPDATE xaa_subscriptions SET event_type = ?, user_id = ?, direction = ?, keyword = ?, tag = ?, authorization_id = ?,
         webhook_id = ?, target_changed_at = ?, version_at = ? WHERE id = ?`,
      record.eventType,
      record.userId,
      record.direction,
      record.keyword,
      record.tag,
      record.authorizationId,
      record.webhookId,
      moved ? now : known.target_changed_at,
      record.at,
      record.id,
    );
    return null;
  }

  /**
   * Takes the webhook away (the subscription delivers to the stream only) at `at`, as of D1 version
   * `asOf`, before D1 records a new target. An id this object has not seen yet is recorded as a
   * placeholder, so its late creation cannot bring the old target back.
   */
  untarget(id: string, userId: string, asOf: number, at: number): void {
    this.forgetLiveTypes();
    const version = asOf + AFTER;
    const known = this.get(id);
    if (!known) {
      this.sql.exec(
        `INSERT INTO xaa_subscriptions (id, event_type, user_id, target_changed_at, started_at, version_at) VALUES (?, '', ?, ?, ?, ?)`,
        id,
        userId,
        at,
        at,
        version,
      );
      return;
    }
    // Already at a later D1 version (a concurrent move recorded and put after the version this one
    // read): that version's target is not the one taken away, and this move's D1 write will fail.
    if (known.ended_at !== null || known.version_at > version) return;
    // Even with no webhook now, the version moves on: a creation or move older than this, still on
    // its way, must not bring a webhook back.
    this.sql.exec(
      `UPDATE xaa_subscriptions SET target_changed_at = CASE WHEN webhook_id IS NULL THEN target_changed_at ELSE ? END,
         webhook_id = NULL, version_at = MAX(version_at, ?) WHERE id = ?`,
      at,
      version,
      id,
    );
  }

  /** Ends these subscriptions; an id never seen is tombstoned, so its late creation is refused. */
  end(subscriptions: { id: string; userId: string }[], at: number): void {
    this.forgetLiveTypes();
    for (const { id, userId } of subscriptions) {
      if (this.get(id)) this.sql.exec('UPDATE xaa_subscriptions SET ended_at = ? WHERE id = ? AND ended_at IS NULL', at, id);
      else {
        this.sql.exec(
          `INSERT INTO xaa_subscriptions (id, event_type, user_id, target_changed_at, started_at, ended_at, version_at)
           VALUES (?, '', ?, ?, ?, ?, ?)`,
          id,
          userId,
          at,
          at,
          at,
          at,
        );
      }
    }
  }

  /** Ends the live subscriptions of a user that `which` selects (a revoke ends the private ones). */
  endForUser(userId: string, at: number, which: (row: XaaMirrorRow) => boolean): void {
    const rows = this.sql
      .exec<XaaMirrorRow>('SELECT * FROM xaa_subscriptions WHERE user_id = ? AND ended_at IS NULL', userId)
      .toArray()
      .filter(which);
    this.end(
      rows.map((r) => ({ id: r.id, userId: r.user_id })),
      at,
    );
  }

  /** Deleting a webhook ends the subscriptions that deliver to it. */
  endForWebhook(webhookId: string, at: number): void {
    this.forgetLiveTypes();
    this.sql.exec('UPDATE xaa_subscriptions SET ended_at = ? WHERE webhook_id = ? AND ended_at IS NULL', at, webhookId);
  }

  /** Live subscriptions of a user to an event type (ingest matches filters on top). */
  liveFor(userId: string, eventType: string): XaaMirrorRow[] {
    this.cache.xaaEventTypes ??= new Set(
      this.sql
        .exec<{ event_type: string }>('SELECT DISTINCT event_type FROM xaa_subscriptions WHERE ended_at IS NULL')
        .toArray()
        .map((r) => r.event_type),
    );
    if (!this.cache.xaaEventTypes.has(eventType)) return [];
    return this.sql
      .exec<XaaMirrorRow>('SELECT * FROM xaa_subscriptions WHERE user_id = ? AND event_type = ? AND ended_at IS NULL', userId, eventType)
      .toArray();
  }

  /** Whether the app has any live XAA subscription, and the webhooks they deliver to. */
  liveTargets(): { any: boolean; webhooks: string[] } {
    const rows = this.sql
      .exec<{ webhook_id: string | null }>(`SELECT DISTINCT webhook_id FROM xaa_subscriptions WHERE ended_at IS NULL AND event_type != ''`)
      .toArray();
    return { any: rows.length > 0, webhooks: rows.flatMap((r) => (r.webhook_id === null ? [] : [r.webhook_id])) };
  }

  /**
   * The subscription live now began at or before `since` and, for a webhook delivery, has targeted
   * that webhook since then (the mirror answers about the present; see MirrorStore.view).
   */
  covers(id: string, webhookId: string | null, userId: string, since: number): boolean {
    const row = this.get(id);
    if (!row || row.ended_at !== null || row.event_type === '' || row.user_id !== userId || row.started_at > since) return false;
    return webhookId === null || (row.webhook_id === webhookId && row.target_changed_at <= since);
  }

  /** Ended rows in a withdrawal's scope, by D1 id: D1 ends exactly these. */
  endedIn(scope: { webhookId?: string; userId?: string; ids?: string[] }): string[] {
    const clauses = ['ended_at IS NOT NULL'];
    const args: string[] = [];
    if (scope.webhookId !== undefined) {
      clauses.push('webhook_id = ?');
      args.push(scope.webhookId);
    }
    if (scope.userId !== undefined) {
      clauses.push('user_id = ?');
      args.push(scope.userId);
    }
    if (scope.ids !== undefined) {
      if (scope.ids.length === 0) return [];
      clauses.push(`id IN (${scope.ids.map(() => '?').join(', ')})`);
      args.push(...scope.ids);
    }
    return this.sql
      .exec<{ id: string }>(`SELECT id FROM xaa_subscriptions WHERE ${clauses.join(' AND ')}`, ...args)
      .toArray()
      .map((r) => r.id);
  }

  /** Rows by id (any state) and the live rows whose id lies in (after, upTo], for the drift check. */
  rowsFor(ids: string[], range: DriftRange): { rows: XaaMirrorRow[]; liveInRange: XaaMirrorRow[] } {
    return driftRows<XaaMirrorRow>(this.sql, 'xaa_subscriptions', ids, range);
  }

  /** Every row, for the simulator's invariants. */
  all(): XaaMirrorRow[] {
    return this.sql.exec<XaaMirrorRow>('SELECT * FROM xaa_subscriptions').toArray();
  }
}
