import type { WebhookHealth } from '../app-object/health';
import type { LedgerEntry } from '../app-object/storage/ledger-views';
import type { Withdrawal } from '../domain/delivery-protocol';

/**
 * How the answers of an app's delivery shards (src/domain/shards.ts) add up to the app's answer.
 * With one shard every merge returns that shard's answer unchanged.
 */

/** A withdrawal over several shards took effect when the last shard's did, and its fence is the longest. */
export function mergeWithdrawals(parts: Withdrawal[]): Withdrawal {
  if (parts.length === 1) return parts[0];
  return {
    effectiveAt: Math.max(...parts.map((w) => w.effectiveAt)),
    fenceWaitMs: Math.max(...parts.map((w) => w.fenceWaitMs)),
    ended: {
      authorizations: parts.flatMap((w) => w.ended.authorizations),
      subscriptions: parts.flatMap((w) => w.ended.subscriptions),
      xaaSubscriptions: parts.flatMap((w) => w.ended.xaaSubscriptions),
    },
  };
}

const minOf = (values: (number | null)[]) => {
  const known = values.filter((v): v is number => v !== null);
  return known.length ? Math.min(...known) : null;
};

/**
 * One webhook's health over every shard: its backlog is the sum, its failing streak the longest one
 * (each shard counts the attempts it reported), its last error the latest, and it is on the slow
 * path if any shard sends it there.
 */
export function mergeHealth(parts: WebhookHealth[][]): WebhookHealth[] {
  if (parts.length === 1) return parts[0];
  const byId = new Map<string, WebhookHealth[]>();
  for (const part of parts) for (const h of part) byId.set(h.id, [...(byId.get(h.id) ?? []), h]);
  return [...byId.values()].map((all) => {
    const latest = all.reduce((a, b) => ((b.lastFailureAt ?? 0) > (a.lastFailureAt ?? 0) ? b : a));
    return {
      id: all[0].id,
      url: all[0].url,
      valid: all.every((h) => h.valid),
      path: all.some((h) => h.path === 'slow') ? 'slow' : 'fast',
      consecutiveFailures: Math.max(...all.map((h) => h.consecutiveFailures)),
      failingSince: minOf(all.map((h) => h.failingSince)),
      lastFailureAt: latest.lastFailureAt,
      lastError: latest.lastError,
      undelivered: all.reduce((sum, h) => sum + h.undelivered, 0),
      undeliveredCapped: all.some((h) => h.undeliveredCapped),
      oldestUndeliveredAt: minOf(all.map((h) => h.oldestUndeliveredAt)),
    };
  });
}

/**
 * One page of the app's ledger, newest first, from one page of each shard. Ledger ids are unique
 * over the shards and ordered roughly by time, so the merged page is the `limit` largest ids, and
 * the next page starts below the smallest of them. There is more when a shard had more, or when the
 * merge left some of what the shards returned.
 */
export function mergeLedgerPages(
  parts: { entries: LedgerEntry[]; nextBefore: number | null }[],
  limit: number,
): { entries: LedgerEntry[]; nextBefore: number | null } {
  if (parts.length === 1) return parts[0];
  const all = parts.flatMap((p) => p.entries).sort((a, b) => b.id - a.id);
  const entries = all.slice(0, limit);
  const more = all.length > limit || parts.some((p) => p.nextBefore !== null);
  return { entries, nextBefore: more && entries.length > 0 ? entries[entries.length - 1].id : null };
}

/** The first `limit` entries by ledger id of every shard's first `limit`, oldest first (the audit's pages). */
export function mergeAscending(parts: LedgerEntry[][], limit: number): LedgerEntry[] {
  if (parts.length === 1) return parts[0];
  return parts
    .flat()
    .sort((a, b) => a.id - b.id)
    .slice(0, limit);
}
