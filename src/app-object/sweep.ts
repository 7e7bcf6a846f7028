import { judgeAttempt } from '../domain/retry';
import { REPLAY_RECHECK_MS, type Release } from './lanes';
import { followUpShardReplay } from './replay-shards';
import { PURGE_INTERVAL_MS, purgeExpired } from './retention';
import type { TenantDelivery } from './tenant-delivery';

/** Most rows of each kind one alarm pass handles; a full pass sets the next one at once. */
export const SWEEP_LIMIT = 500;

/**
 * The least time between two passes that were not full. The next wake-up counts every waiting row,
 * not only lane heads, so a replay's copies (due every 0.4 ms at 2,500/s, most behind a head still
 * out) had the alarm firing dozens of times a second to find nothing due: 2.8 million rows read over a
 * 10,000-event replay. Retries are seconds apart and copies are released in batches, so 100 ms costs
 * nothing a receiver could notice.
 */
export const MIN_SWEEP_GAP_MS = 100;

/**
 * The object's alarm (docs/delivery.md, "Leases and sweeps"): runs retention, gives up hand-outs whose
 * outcome never came back (they stay on the ledger as outcome unknown and count as an attempt),
 * releases again what was released but never claimed (a new release number supersedes the lost or
 * late queue message, so one attempt is still handed out once), and releases due lane heads:
 * retries, replay copies, and anything a failed queue send left waiting; and, in a sharded app, makes
 * the calls a replay still owes another shard. Held lanes are not due, so
 * an invalid webhook with any number of users never fills a pass.
 */
export async function alarmPass(delivery: TenantDelivery): Promise<void> {
  const { store, ports, settings, lanes } = delivery;
  const { outbox, outboxScans } = store;
  if (!store.tenant.get()) return;
  const now = ports.now();
  const out: Release[] = [];

  const lastPurge = store.retention.meta('last_purge');
  if (lastPurge === null || now >= lastPurge + PURGE_INTERVAL_MS) {
    const expired = purgeExpired(store, now, settings.retention);
    lanes.dropAndAdvance(expired, 'payload retention ended before delivery', now, out);
  }

  const unreported = outboxScans.unreportedHandOuts(now - delivery.handOutLeaseMs(), SWEEP_LIMIT);
  for (const row of unreported) {
    const verdict = judgeAttempt({ error: 'outcome unknown: no report', latencyMs: 0 }, row.attempt, settings.retryScheduleSeconds, now);
    if (verdict.kind === 'failed') {
      const message = outbox.message(row.seq)!;
      outbox.finish(row.seq, 'failed', now);
      lanes.afterFinish(message, now, out);
      lanes.releaseLane(row.lane, now, out);
    } else {
      const delayMs = verdict.kind === 'retry' ? verdict.delayMs : 0;
      outbox.markWaiting(row.seq, row.attempt + 1, now + delayMs);
      lanes.releaseLane(row.lane, now, out);
    }
  }

  const stale = outboxScans.staleReleases(now - settings.releaseLeaseMs, SWEEP_LIMIT);
  for (const row of stale) {
    outbox.markWaiting(row.seq, row.attempt, now);
    lanes.releaseLane(row.lane, now, out);
  }

  const heads = outboxScans.dueHeads(now, SWEEP_LIMIT);
  for (const head of heads) lanes.releaseLane(head.lane, now, out);

  // The pass sets its own next alarm below, so it takes the recheck that send() would otherwise ask for.
  const heldBack = lanes.takeRecheck();
  await delivery.send(out);
  // After the releases: a replay part this pass finished reports to shard 0 in the same pass.
  const shardWorkAt = (await followUpShardReplay(delivery)) ?? Number.POSITIVE_INFINITY;
  const full = unreported.length === SWEEP_LIMIT || stale.length === SWEEP_LIMIT || (heads.length === SWEEP_LIMIT && !heldBack);
  if (full) {
    await ports.setAlarm(now);
    return;
  }
  const next = outboxScans.nextWakeUp(now, { releaseMs: settings.releaseLeaseMs, handOutMs: delivery.handOutLeaseMs() });
  const purged = store.retention.meta('last_purge');
  const purgeAt = purged !== null ? purged + PURGE_INTERVAL_MS : Number.POSITIVE_INFINITY;
  const replayAt = heldBack ? now + REPLAY_RECHECK_MS : Number.POSITIVE_INFINITY;
  const at = Math.min(next ?? Number.POSITIVE_INFINITY, purgeAt, replayAt, shardWorkAt);
  await ports.setAlarm(Number.isFinite(at) ? Math.max(at, now + MIN_SWEEP_GAP_MS) : null);
}
