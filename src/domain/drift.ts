/**
 * The drift check (docs/delivery.md, "D1 and the objects agree"): compares D1's live control plane
 * for one app with that app's object's mirror and says, for each difference, which side is behind
 * and what brings them together. Pure.
 *
 * The rules follow the order of writes: a widening change reaches D1 first, so "live in D1, unknown
 * to the object" means the object has not heard of it yet (push it there); a narrowing change reaches
 * the object first, so "live in D1, ended in the object" means D1 has not recorded it yet (end it in
 * D1 at the object's time); "live in the object, not in D1" should never happen (the object is wider:
 * end it there, and report it).
 */
export interface MirrorRowState {
  id: string;
  userId: string;
  ended: boolean;
  endedAt: number | null;
  scope?: string;
  webhookId?: string;
}

export interface D1Row {
  id: string;
  userId: string;
  scope?: string;
  webhookId?: string;
  createdAt: number;
}

export type Drift =
  | { kind: 'object_behind'; table: 'authorizations' | 'subscriptions'; row: D1Row }
  | { kind: 'object_narrower'; table: 'authorizations'; row: D1Row; objectScope: string }
  | { kind: 'd1_behind'; table: 'authorizations' | 'subscriptions'; id: string; endedAt: number }
  | { kind: 'object_wider'; table: 'authorizations' | 'subscriptions'; id: string; userId: string };

/**
 * Compares D1's live rows (a page of them) with the object's rows for the same ids, plus the
 * object's live rows in the same id range.
 */
export function compareRows(
  table: 'authorizations' | 'subscriptions',
  d1Live: D1Row[],
  objectRows: MirrorRowState[],
  objectLiveInRange: MirrorRowState[],
): Drift[] {
  const drift: Drift[] = [];
  const byId = new Map(objectRows.map((r) => [r.id, r]));
  const d1Ids = new Set(d1Live.map((r) => r.id));
  for (const row of d1Live) {
    const mirrored = byId.get(row.id);
    if (!mirrored) drift.push({ kind: 'object_behind', table, row });
    else if (mirrored.ended) drift.push({ kind: 'd1_behind', table, id: row.id, endedAt: mirrored.endedAt ?? row.createdAt });
    else if (table === 'authorizations' && mirrored.scope !== row.scope) {
      drift.push({ kind: 'object_narrower', table, row, objectScope: mirrored.scope ?? '' });
    }
  }
  for (const row of objectLiveInRange) {
    if (!d1Ids.has(row.id)) drift.push({ kind: 'object_wider', table, id: row.id, userId: row.userId });
  }
  return drift;
}

/** App status: the later change wins, on whichever side it is. */
export function compareStatus(
  d1: { status: string; at: number },
  object: { status: string; at: number },
): { kind: 'in_step' } | { kind: 'object_behind' } | { kind: 'd1_behind' } {
  if (d1.status === object.status) return { kind: 'in_step' };
  return d1.at >= object.at ? { kind: 'object_behind' } : { kind: 'd1_behind' };
}

/** D1's live XAA subscription, as the drift check compares it. */
export interface XaaD1Row {
  id: string;
  userId: string;
  eventType: string;
  webhookId: string | null;
  tag: string | null;
  updatedAt: number;
}

/** The object's row of the same id. */
export interface XaaMirrorState {
  id: string;
  userId: string;
  eventType: string;
  webhookId: string | null;
  tag: string | null;
  ended: boolean;
  endedAt: number | null;
}

export type XaaDrift =
  | { kind: 'object_behind'; id: string; userId: string }
  /** Live on both sides, but the object holds another target, tag or (a placeholder) no type yet. */
  | { kind: 'object_differs'; id: string; userId: string; detail: string }
  | { kind: 'd1_behind'; id: string; userId: string; endedAt: number }
  | { kind: 'object_wider'; id: string; userId: string };

/** The same comparison for the X Activity API's subscriptions, by the same order of writes. */
export function compareXaaRows(d1Live: XaaD1Row[], objectRows: XaaMirrorState[], objectLiveInRange: XaaMirrorState[]): XaaDrift[] {
  const drift: XaaDrift[] = [];
  const byId = new Map(objectRows.map((r) => [r.id, r]));
  const d1Ids = new Set(d1Live.map((r) => r.id));
  for (const row of d1Live) {
    const mirrored = byId.get(row.id);
    if (!mirrored) drift.push({ kind: 'object_behind', id: row.id, userId: row.userId });
    else if (mirrored.ended) drift.push({ kind: 'd1_behind', id: row.id, userId: row.userId, endedAt: mirrored.endedAt ?? row.updatedAt });
    else if (mirrored.eventType !== row.eventType || mirrored.webhookId !== row.webhookId || mirrored.tag !== row.tag) {
      const detail = `D1 ${row.eventType} to ${row.webhookId ?? 'the stream'}, object ${mirrored.eventType || '(not yet created)'} to ${mirrored.webhookId ?? 'the stream'}`;
      drift.push({ kind: 'object_differs', id: row.id, userId: row.userId, detail });
    }
  }
  for (const row of objectLiveInRange) {
    if (!d1Ids.has(row.id)) drift.push({ kind: 'object_wider', id: row.id, userId: row.userId });
  }
  return drift;
}
