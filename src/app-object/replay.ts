import { entitlementAt } from '../domain/entitlement';
import { renderReplayJobStatus } from '../domain/payloads';
import { REPLAY_RECHECK_MS, type Release } from './lanes';
import type { MirrorStore } from './storage/mirror-store';
import { liveLane, type Outbox, replayLane, scopeOfMessage } from './storage/outbox-store';
import type { ReplayStore } from './storage/replay-store';
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

/**
 * Closes a job once none of its copies is left in the outbox and queues the `replay_job_status`
 * event: Complete when every copy was delivered, Incomplete otherwise. Returns the lane of the
 * status message, or null if the job is still running.
 */
export function finishReplayIfDone(replays: ReplayStore, outbox: Outbox, jobId: string, now: number): string | null {
  const job = replays.job(jobId);
  if (job?.state !== 'running' || outbox.jobHasPending(jobId)) return null;
  const delivered = replays.deliveredCopies(jobId);
  const complete = delivered === job.total;
  replays.finishJob(jobId, complete ? 'complete' : 'incomplete', now);
  const description = complete
    ? `Replay of ${job.total} events completed`
    : `Replay finished with ${delivered} of ${job.total} events delivered`;
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
  return lane;
}

/**
 * Starts a replay job for one webhook. One job per webhook at a time; the copies are spread out at
 * `replayRatePerSecond` so live delivery keeps flowing beside them.
 */
export async function startReplay(
  delivery: TenantDelivery,
  appId: string,
  job: { jobId: string; webhookId: string; from: number; to: number },
): Promise<{ ok: true; events: number } | { ok: false; reason: 'conflict' | 'not_found' }> {
  delivery.tenantFor(appId);
  const { store, ports, settings, lanes } = delivery;
  const webhook = store.webhooks.get(job.webhookId);
  if (!webhook || webhook.deleted_at !== null) return { ok: false, reason: 'not_found' };
  if (store.replays.runningJob(job.webhookId)) return { ok: false, reason: 'conflict' };
  const now = ports.now();
  const { copies, lanes: replayLanes } = planReplay(store.replays, store.outbox, store.mirror, {
    ...job,
    now,
    ratePerSecond: settings.replayRatePerSecond,
  });
  const out: Release[] = [];
  const statusLane = finishReplayIfDone(store.replays, store.outbox, job.jobId, now);
  for (const lane of statusLane ? [statusLane] : replayLanes) lanes.releaseLane(lane, now, out);
  await delivery.send(out);
  // Later copies become due over time; the alarm releases them.
  if (copies > 0) await ports.wakeBy(now + REPLAY_RECHECK_MS);
  return { ok: true, events: copies };
}
