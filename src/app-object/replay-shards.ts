import type { Release } from './lanes';
import { finishReplayIfDone, planAndRelease } from './replay';
import type { ReplayPartJob } from './storage/replay-store';
import type { TenantDelivery } from './tenant-delivery';

/**
 * Replay for an app sharded over several objects (docs/scaling.md, "Replay over shards").
 *
 * A job is started at shard 0, which holds it: the one-job-per-webhook check, its own part, and a row
 * per other shard's part (asked → running → done with its counts). Shard 0 asks each other shard to
 * start its part; a shard's part makes copies only of its own users' originals, at its share of the
 * rate. When a part's copies are all finished, that shard reports its counts to shard 0; when shard
 * 0's own copies and every part are done, shard 0 sends the job's one `replay_job_status` event with
 * the counts summed.
 *
 * Every call between shards is safe to repeat, and each side keeps what it still owes in storage, so
 * a failed call, a lost answer or a crash in between is made good by the next alarm pass:
 * - a part asked again answers with its state as it stands (starting it only the first time);
 * - counts reported again for a part that is already done change nothing.
 */

/** How soon a failed call to another shard is tried again (by the alarm). */
export const SHARD_CALL_RETRY_MS = 5_000;

/**
 * A part whose shard has not answered the request to start it this long after the job began is given
 * up on: the job closes as Incomplete, naming how many shards never answered, instead of holding the
 * webhook's one job (and refusing every new replay with 409) for as long as that shard is down.
 */
export const PART_START_GIVE_UP_MS = 10 * 60_000;

/** A part as its shard answers for it: its copies, and how many were delivered once it has finished. */
export type ReplayPartState = { total: number; delivered: number | null };

function shardCalls(delivery: TenantDelivery) {
  const calls = delivery.ports.shards;
  if (!calls) throw new Error('this app has several shards, but the object was built without calls to its other shards');
  return calls;
}

/**
 * Shard 0: asks every part not yet known to have started to start. Returns the copies they made.
 * Whatever could not be asked is asked again by the alarm.
 */
export async function startParts(delivery: TenantDelivery): Promise<number> {
  const { store, ports, lanes } = delivery;
  const asked = store.replays.partsToStart();
  if (asked.length === 0) return 0;
  const { appId } = store.tenant.get()!;
  const calls = shardCalls(delivery);
  // Set before asking: a crash while the calls are out must still bring the alarm back to them.
  await ports.wakeBy(ports.now() + SHARD_CALL_RETRY_MS);
  const answers = await Promise.allSettled(asked.map((part) => calls.startReplayPart(appId, part.shard, part.job)));
  const now = ports.now();
  const out: Release[] = [];
  let events = 0;
  answers.forEach((answer, i) => {
    const part = asked[i];
    if (answer.status === 'rejected') {
      if (now - part.jobCreatedAt >= PART_START_GIVE_UP_MS && store.replays.partUnreached(part.job_id, part.shard)) {
        console.error(
          `app ${appId}: replay job ${part.job_id}: shard ${part.shard} has not answered for ${Math.round((now - part.jobCreatedAt) / 60_000)} min; its part is given up and the job closes as Incomplete`,
          answer.reason,
        );
        lanes.settleReplay(finishReplayIfDone(store, part.job_id, now, store.tenant.get()!.placement), now, out);
        return;
      }
      console.error(
        `app ${appId}: replay job ${part.job_id}: shard ${part.shard} did not start its part; asked again shortly`,
        answer.reason,
      );
      return;
    }
    events += answer.value.total;
    if (answer.value.delivered === null) store.replays.partStarted(part.job_id, part.shard, answer.value.total);
    else recordPart(delivery, part.job_id, part.shard, { total: answer.value.total, delivered: answer.value.delivered }, now, out);
  });
  await delivery.send(out);
  return events;
}

/** Shard 0: a part's final counts, from its answer or its report; the last one closes the job. */
function recordPart(
  delivery: TenantDelivery,
  jobId: string,
  shard: number,
  counts: { total: number; delivered: number },
  now: number,
  out: Release[],
): void {
  const { store, lanes } = delivery;
  if (!store.replays.partDone(jobId, shard, counts)) return;
  lanes.settleReplay(finishReplayIfDone(store, jobId, now, store.tenant.get()!.placement), now, out);
}

/** Shard 0, called by another shard: its part of a job has finished with these counts. */
export async function replayPartFinished(
  delivery: TenantDelivery,
  appId: string,
  part: { jobId: string; shard: number; total: number; delivered: number },
): Promise<void> {
  const { placement } = delivery.tenantFor(appId);
  if (placement.shard !== 0) throw new Error(`app ${appId}: replay parts report to shard 0, not to shard ${placement.shard}`);
  const now = delivery.ports.now();
  const out: Release[] = [];
  recordPart(delivery, part.jobId, part.shard, part, now, out);
  await delivery.send(out);
}

/**
 * Another shard, called by shard 0: starts this shard's part of a job, the first time only. Asked
 * again (shard 0 lost the answer or crashed), it answers with the part as it stands. Once the part
 * has finished, the answer carries its counts, and this shard owes shard 0 nothing more.
 */
export async function startReplayPart(delivery: TenantDelivery, appId: string, job: ReplayPartJob): Promise<ReplayPartState> {
  const { placement } = delivery.tenantFor(appId);
  if (placement.shard === 0) throw new Error(`app ${appId}: shard 0 holds a replay job; it does not run one as a part`);
  const { store, ports } = delivery;
  if (!store.replays.job(job.jobId)) {
    const webhook = store.webhooks.get(job.webhookId);
    if (webhook && webhook.deleted_at === null) {
      await planAndRelease(delivery, job);
    } else {
      // The webhook was deleted since the job started: there is nothing to replay to, the part is empty.
      store.replays.createJob({ ...job, now: ports.now(), total: 0 });
      store.replays.finishJob(job.jobId, 'reporting', 0, ports.now());
    }
  }
  const part = store.replays.job(job.jobId)!;
  if (part.state === 'running') return { total: part.total, delivered: null };
  store.replays.markReported(job.jobId);
  return { total: part.total, delivered: part.delivered };
}

/** Another shard: reports each finished part's counts to shard 0. Unacknowledged ones are kept for the next pass. */
async function reportParts(delivery: TenantDelivery): Promise<void> {
  const { store } = delivery;
  const finished = store.replays.partsToReport();
  if (finished.length === 0) return;
  const { appId, placement } = store.tenant.get()!;
  const calls = shardCalls(delivery);
  const answers = await Promise.allSettled(
    finished.map((job) =>
      calls.replayPartFinished(appId, { jobId: job.job_id, shard: placement.shard, total: job.total, delivered: job.delivered ?? 0 }),
    ),
  );
  answers.forEach((answer, i) => {
    if (answer.status === 'fulfilled') store.replays.markReported(finished[i].job_id);
    else
      console.error(
        `app ${appId}: replay job ${finished[i].job_id}: shard 0 did not take shard ${placement.shard}'s counts; sent again shortly`,
        answer.reason,
      );
  });
}

/**
 * The alarm's part: whatever a sharded app's replay still owes between shards. Returns when to look
 * again, or null when nothing is owed.
 */
export async function followUpShardReplay(delivery: TenantDelivery): Promise<number | null> {
  const { store, ports } = delivery;
  const { placement } = store.tenant.get()!;
  if (placement.shards === 1) return null;
  if (placement.shard === 0) await startParts(delivery);
  else await reportParts(delivery);
  return store.replays.hasShardWork() ? ports.now() + SHARD_CALL_RETRY_MS : null;
}
