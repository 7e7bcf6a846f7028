import { hasScope } from '../domain/audience';
import { renderReplayJobStatus } from '../domain/payloads';
import { liveLane, type MessageRow, type Outbox, replayLane } from './outbox';
import type { TenantState } from './tenant-state';

/**
 * Replay (docs/delivery.md, "Replay"): a job re-delivers to one webhook every event whose delivery to it was
 * attempted or held in [from, to), oldest first, as copies in lanes of their own that carry the
 * original payload and `webhook-id`. A copy is made only while the subscription that covered the
 * original is still the live one and the user's authorization still holds the scope: nothing from
 * before a user subscribed, nothing for a user who left since. Copies are spaced to the job's rate.
 */
export type ReplayJob = {
  job_id: string;
  webhook_id: string;
  from_ms: number;
  to_ms: number;
  created_at: number;
  state: 'running' | 'complete' | 'incomplete';
  total: number;
  finished_at: number | null;
};

export function runningJob(sql: SqlStorage, webhookId: string): ReplayJob | undefined {
  return sql.exec<ReplayJob>(`SELECT * FROM replay_jobs WHERE webhook_id = ? AND state = 'running'`, webhookId).toArray()[0];
}

export function planReplay(
  sql: SqlStorage,
  outbox: Outbox,
  state: TenantState,
  job: { jobId: string; webhookId: string; from: number; to: number; now: number; ratePerSecond: number },
): { copies: number; lanes: string[] } {
  const originals = sql
    .exec<MessageRow>(
      `SELECT * FROM messages WHERE webhook_id = ? AND kind = 'event' AND created_at >= ? AND created_at < ?
         AND state != 'dropped' AND payload IS NOT NULL ORDER BY seq`,
      job.webhookId,
      job.from,
      job.to,
    )
    .toArray();
  const lanes = new Set<string>();
  let copies = 0;
  for (const original of originals) {
    if (!state.subscribedSince(job.webhookId, original.user_id, original.created_at)) continue;
    const scope = state.activeScope(original.user_id);
    if (!scope || !hasScope(scope, original.required_scope ?? '')) continue;
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
  sql.exec(
    `INSERT INTO replay_jobs (job_id, webhook_id, from_ms, to_ms, created_at, state, total) VALUES (?, ?, ?, ?, ?, 'running', ?)`,
    job.jobId,
    job.webhookId,
    job.from,
    job.to,
    job.now,
    copies,
  );
  return { copies, lanes: [...lanes] };
}

/**
 * Closes a job once none of its copies is left in the outbox and queues the `replay_job_status`
 * event: Complete when every copy was delivered, Incomplete otherwise. Returns the lane of the
 * status message, or null if the job is still running.
 */
export function finishReplayIfDone(sql: SqlStorage, outbox: Outbox, jobId: string, now: number): string | null {
  const job = sql.exec<ReplayJob>(`SELECT * FROM replay_jobs WHERE job_id = ? AND state = 'running'`, jobId).toArray()[0];
  if (!job || outbox.pendingInJob(jobId) > 0) return null;
  const { delivered } = sql
    .exec<{ delivered: number }>(`SELECT count(*) AS delivered FROM messages WHERE replay_job_id = ? AND state = 'delivered'`, jobId)
    .one();
  const complete = delivered === job.total;
  sql.exec(`UPDATE replay_jobs SET state = ?, finished_at = ? WHERE job_id = ?`, complete ? 'complete' : 'incomplete', now, jobId);
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
