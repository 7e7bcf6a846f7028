import { forgetGrants, type MirrorCache, mirrorCacheOf } from './mirror-cache';
import type { MirrorAuthorization, MirrorRow, MirrorSubscription } from './mirror-store';

/**
 * The mirror of authorizations and subscriptions as the drift check and the reconcile see it: whole
 * rows to compare with D1's, and the two repairs that narrow the object to D1 (docs/delivery.md, "D1
 * and each object agree"). The everyday reads and writes are in mirror-store.ts; both share the
 * object's mirror cache, which each write here drops as theirs do.
 */
export class MirrorDriftStore {
  private readonly cache: MirrorCache;

  constructor(private readonly sql: SqlStorage) {
    this.cache = mirrorCacheOf(sql);
  }

  /** Every authorization and subscription row (live, ended and tombstones), for the drift check. */
  rows(): { authorizations: MirrorAuthorization[]; subscriptions: MirrorSubscription[] } {
    return {
      authorizations: this.sql.exec<MirrorAuthorization>('SELECT * FROM authorizations').toArray(),
      subscriptions: this.sql.exec<MirrorSubscription>('SELECT * FROM subscriptions').toArray(),
    };
  }

  /** Rows by id (any state) and the live rows whose id lies in (after, upTo], for the drift check. */
  rowsFor(table: 'authorizations' | 'subscriptions', ids: string[], range: DriftRange): { rows: MirrorRow[]; liveInRange: MirrorRow[] } {
    return driftRows<MirrorRow>(this.sql, table, ids, range);
  }

  /** Sets a live authorization's scope to D1's (the reconcile, after a re-grant that stopped half-way). */
  setAuthorizationScope(authorizationId: string, scope: string): void {
    forgetGrants(this.cache);
    this.sql.exec('UPDATE authorizations SET scope = ? WHERE id = ? AND ended_at IS NULL', scope, authorizationId);
  }

  /** Ends one row by id (the reconcile narrowing an object that was wider than D1). */
  endRow(table: 'authorizations' | 'subscriptions', id: string, at: number): void {
    forgetGrants(this.cache);
    this.sql.exec(`UPDATE ${table} SET ended_at = ? WHERE id = ? AND ended_at IS NULL`, at, id);
  }
}

/** A page of D1 ids the drift check compares: those after `after`, up to `upTo` (null: no end). */
export type DriftRange = { after: string; upTo: string | null };

/**
 * A mirror table's rows with these ids (any state), and its live rows whose id lies in the range: the
 * drift check's two questions, for the AAA tables here and for xaa-mirror-store.ts.
 */
export function driftRows<T extends Record<string, SqlStorageValue>>(
  sql: SqlStorage,
  table: 'authorizations' | 'subscriptions' | 'xaa_subscriptions',
  ids: string[],
  range: DriftRange,
): { rows: T[]; liveInRange: T[] } {
  const rows = ids.length ? sql.exec<T>(`SELECT * FROM ${table} WHERE id IN (${ids.map(() => '?').join(', ')})`, ...ids).toArray() : [];
  // Ids are decimal strings of up to 19 digits: compared as the integers they are.
  const liveInRange = sql
    .exec<T>(
      `SELECT * FROM ${table} WHERE ended_at IS NULL AND id IS NOT NULL
         AND CAST(id AS INTEGER) > CAST(? AS INTEGER) AND (? IS NULL OR CAST(id AS INTEGER) <= CAST(? AS INTEGER))`,
      range.after,
      range.upTo,
      range.upTo,
    )
    .toArray();
  return { rows, liveInRange };
}
