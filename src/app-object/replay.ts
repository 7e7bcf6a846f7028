import { entitlementAt } from '../domain/entitlement';
import { renderReplayJobStatus } from '../domain/payloads';
import { REPLAY_RECHECK_MS, type Release } from './lanes';
import { startParts } from './replay-shards';
import type { AppStore } from './storage/app-store';
import type { MirrorStore } from './storage/mirror-store';
import { liveLane, type Outbox, replayLane, scopeOfMessage } from './storage/outbox-store';
import type { ReplayPartJob, ReplayStore } from './storage/replay-store';
import type { Placement } from './storage/tenant-store';
import type { TenantDelivery } from './tenant-delivery';

/**
 * Replay (DELIVERY.md): a job re-delivers to one webhook every event whose delivery to it was
 * attempted or held in [from, to), oldest first, as copies in lanes of their own that carry the
 * original payload and `webhook-id`. A copy is made only while the subscription that covered the
 * original is still the live one and the user's authorization still holds the scope: nothing from
 * before a user subscribed, nothing for a user who left since. Copies are spaced to the job's rate.
 */
export function planReplay(
  replays: ReplayStore,
  outbox: Outbox,
  state: MirrorStore,
  job: { jobId: string; webhookId: string; from: number; to: number; now: number; ratePerSecond: number },
): { copies: number; lanes: string[] } {
  const originals = replays.originals(job.webhookId, job.from, job.to);
  const lanes = new Set<string>();
  const view = state.view();
  let copies = 0;
  for (const original of originals) {
    const scope = { ...scopeOfMessage(original), kind: 'replay' as const };
    if (entitlementAt(view, scope, job.now).kind === 'withdrawn') continue;
    const lane = replayLane(job.webhookId, original.user_id, job.jobId);
    outbox.append({
      deliveryId: `${original.delivery_id}#${job.jobId}`,
      webhookMessageId: original.webhook_message_id,
      replayJobId: job.jobId,
      lane,
      notBefore: job.now + Math.floor((copies * 1000) / job.ratePerSecond),
      kind: 'replay',
      eventId: original.event_id,
      eventType: original.event_type,
      requiredScope: original.required_scope,
      webhookId: job.webhookId,
      userId: original.user_id,
      payload: original.payload!,
      createdAt: original.created_at,
    });
    lanes.add(lane);
    copies++;
  }
  replays.createJob({ ...job, total: copies });
  return { copies, lanes: [...lanes] };
}

/** What finishing a job's copies here led to. */
export type ReplayFinish =
  | { kind: 'running' }
  /** The job is over: its `replay_job_status` event is queued in this lane. */
  | { kind: 'status'; lane: string }
  /** This shard's part of a sharded app's job is over: shard 0 is owed its counts. */
  | { kind: 'part_finished' };

/**
 * Closes a job once none of its copies is left in the outbox and queues the `replay_job_status`
 * event: Complete when every copy was delivered, Incomplete otherwise. In a sharded app only shard 0
 * sends that event, once its own copies and every other shard's part are done, with the counts
 * summed; another shard's part only records its counts, to report them to shard 0.
 */
export function finishReplayIfDone(
  { replays, outbox, outboxScans }: Pick<AppStore, 'replays' | 'outbox' | 'outboxScans'>,
  jobId: string,
  now: number,
  placement: Placement,
): ReplayFinish {
  const job = replays.job(jobId);
  if (job?.state !== 'running' || outboxScans.jobHasPending(jobId)) return { kind: 'running' };
  let delivered = replays.deliveredCopies(jobId);
  if (placement.shard !== 0) {
    replays.finishJob(jobId, 'reporting', delivered, now);
    return { kind: 'part_finished' };
  }
  let total = job.total;
  let unreached = 0;
  if (placement.shards > 1) {
    const parts = replays.partsOf(jobId);
    if (parts.outstanding > 0) return { kind: 'running' };
    total += parts.total;
    delivered += parts.delivered;
    unreached = parts.unreached;
  }
  const complete = delivered === total && unreached === 0;
  replays.finishJob(jobId, complete ? 'complete' : 'incomplete', delivered, now);
  const description = complete
    ? `Replay of ${total} events completed`
    : `Replay finished with ${delivered} of ${total} events delivered` +
      (unreached > 0
        ? `; ${unreached} of the app's ${placement.shards} delivery shards never answered, so their users' events were not replayed`
        : '');
  const lane = liveLane(job.webhook_id, '');
  outbox.append({
    deliveryId: `msg_replay_${jobId}_${job.webhook_id}`,
    kind: 'replay_status',
    eventId: `replay-${jobId}`,
    eventType: 'replay_job_status',
    requiredScope: null,
    webhookId: job.webhook_id,
    userId: '',
    payload: renderReplayJobStatus({ webhookId: job.webhook_id, jobId, complete, description }),
    createdAt: now,
    lane,
  });
  return { kind: 'status', lane };
}

/**
 * Starts a replay job for one webhook, at shard 0 (the only shard of an unsharded app). One job per
 * webhook at a time; the copies are spread out at `replayRatePerSecond` so live delivery keeps
 * flowing beside them. A sharded app's job runs as one part per shard (replay-shards.ts), each at its
 * share of the rate, so the webhook still sees at most the configured rate.
 */
export async function startReplay(
  delivery: TenantDelivery,
  appId: string,
  job: ReplayPartJob,
): Promise<{ ok: true; events: number } | { ok: false; reason: 'conflict' | 'not_found' }> {
  const { placement } = delivery.tenantFor(appId);
  if (placement.shard !== 0) throw new Error(`app ${appId}: a replay job starts at shard 0, not at shard ${placement.shard}`);
  const { store } = delivery;
  const webhook = store.webhooks.get(job.webhookId);
  if (!webhook || webhook.deleted_at !== null) return { ok: false, reason: 'not_found' };
  if (store.replays.runningJob(job.webhookId)) return { ok: false, reason: 'conflict' };
  const copies = await planAndRelease(delivery, job, () => store.replays.askParts(job.jobId, placement.shards));
  const events = placement.shards > 1 ? copies + (await startParts(delivery)) : copies;
  return { ok: true, events };
}

/**
 * Plans this shard's copies of a job, then (after `beforeFinish`, which may add parts the job waits
 * for) closes the job at once if it has nothing to wait for, and releases what is due. Returns the
 * number of copies planned.
 */
export async function planAndRelease(delivery: TenantDelivery, job: ReplayPartJob, beforeFinish: () => void = () => {}): Promise<number> {
  const { store, ports, settings, lanes } = delivery;
  const placement = store.tenant.get()!.placement;
  const now = ports.now();
  const { copies, lanes: replayLanes } = planReplay(store.replays, store.outbox, store.mirror, {
    ...job,
    now,
    ratePerSecond: settings.replayRatePerSecond / placement.shards,
  });
  beforeFinish();
  const out: Release[] = [];
  const finish = finishReplayIfDone(store, job.jobId, now, placement);
  lanes.settleReplay(finish, now, out);
  if (finish.kind === 'running') for (const lane of replayLanes) lanes.releaseLane(lane, now, out);
  await delivery.send(out);
  // Later copies become due over time; the alarm releases them.
  if (copies > 0) await ports.wakeBy(now + REPLAY_RECHECK_MS);
  return copies;
}
