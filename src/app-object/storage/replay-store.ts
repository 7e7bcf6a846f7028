import type { MessageRow } from './outbox-store';

/** A replay job as the object keeps it (docs/delivery.md, "Replay"). */
export type ReplayJob = {
  job_id: string;
  webhook_id: string;
  from_ms: number;
  to_ms: number;
  created_at: number;
  /** `reporting`: a part in a shard other than 0 that has finished and owes shard 0 its counts. */
  state: 'running' | 'reporting' | 'complete' | 'incomplete';
  total: number;
  /** Copies delivered, once the job (or this shard's part of it) has finished. */
  delivered: number | null;
  finished_at: number | null;
};

/** Shard 0's record of one other shard's part of a job: asked to start, running, or done with its counts. */
export type ReplayPart = {
  job_id: string;
  shard: number;
  /** `unreached`: its shard never answered the request to start it, and shard 0 gave up on it. */
  state: 'asked' | 'running' | 'done' | 'unreached';
  total: number | null;
  delivered: number | null;
};

/** What shard 0 sends a shard to start its part of a job (the job's window and webhook). */
export type ReplayPartJob = { jobId: string; webhookId: string; from: number; to: number };

export class ReplayStore {
  constructor(private readonly sql: SqlStorage) {}

  runningJob(webhookId: string): ReplayJob | undefined {
    return this.sql.exec<ReplayJob>(`SELECT * FROM replay_jobs WHERE webhook_id = ? AND state = 'running'`, webhookId).toArray()[0];
  }

  job(jobId: string): ReplayJob | undefined {
    return this.sql.exec<ReplayJob>('SELECT * FROM replay_jobs WHERE job_id = ?', jobId).toArray()[0];
  }

  /** Original deliveries to a webhook in [from, to) that still have a payload, oldest first. */
  originals(webhookId: string, from: number, to: number): MessageRow[] {
    return this.sql
      .exec<MessageRow>(
        `SELECT * FROM messages WHERE webhook_id = ? AND kind = 'event' AND created_at >= ? AND created_at < ?
           AND state != 'dropped' AND payload IS NOT NULL ORDER BY seq`,
        webhookId,
        from,
        to,
      )
      .toArray();
  }

  createJob(job: { jobId: string; webhookId: string; from: number; to: number; now: number; total: number }): void {
    this.sql.exec(
      `INSERT INTO replay_jobs (job_id, webhook_id, from_ms, to_ms, created_at, state, total) VALUES (?, ?, ?, ?, ?, 'running', ?)`,
      job.jobId,
      job.webhookId,
      job.from,
      job.to,
      job.now,
      job.total,
    );
  }

  deliveredCopies(jobId: string): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM messages WHERE replay_job_id = ? AND state = 'delivered'`, jobId).one()
      .n;
  }

  finishJob(jobId: string, state: ReplayJob['state'], delivered: number, now: number): void {
    this.sql.exec(`UPDATE replay_jobs SET state = ?, delivered = ?, finished_at = ? WHERE job_id = ?`, state, delivered, now, jobId);
  }

  // ---- a sharded app's job: shard 0's record of the other parts ---------------------------------

  askParts(jobId: string, shards: number): void {
    for (let shard = 1; shard < shards; shard++) {
      this.sql.exec(`INSERT OR IGNORE INTO replay_parts (job_id, shard, state) VALUES (?, ?, 'asked')`, jobId, shard);
    }
  }

  /** Parts asked for but not yet known to have started (a crash or a failed call in between), with their job. */
  partsToStart(): (ReplayPart & { jobCreatedAt: number; job: ReplayPartJob })[] {
    return this.sql
      .exec<ReplayPart & { webhook_id: string; from_ms: number; to_ms: number; created_at: number }>(
        `SELECT p.*, j.webhook_id, j.from_ms, j.to_ms, j.created_at FROM replay_parts p JOIN replay_jobs j ON j.job_id = p.job_id
          WHERE p.state = 'asked' AND j.state = 'running'`,
      )
      .toArray()
      .map(({ webhook_id, from_ms, to_ms, created_at, ...part }) => ({
        ...part,
        jobCreatedAt: created_at,
        job: { jobId: part.job_id, webhookId: webhook_id, from: from_ms, to: to_ms },
      }));
  }

  partStarted(jobId: string, shard: number, total: number): void {
    this.sql.exec(
      `UPDATE replay_parts SET state = 'running', total = ? WHERE job_id = ? AND shard = ? AND state = 'asked'`,
      total,
      jobId,
      shard,
    );
  }

  /**
   * Records a part's final counts; false if it was already done or given up on (a repeated or late
   * report changes nothing).
   */
  partDone(jobId: string, shard: number, counts: { total: number; delivered: number }): boolean {
    const part = this.sql.exec<ReplayPart>('SELECT * FROM replay_parts WHERE job_id = ? AND shard = ?', jobId, shard).toArray()[0];
    if (!part || part.state === 'done' || part.state === 'unreached') return false;
    this.sql.exec(
      `UPDATE replay_parts SET state = 'done', total = ?, delivered = ? WHERE job_id = ? AND shard = ?`,
      counts.total,
      counts.delivered,
      jobId,
      shard,
    );
    return true;
  }

  /** A part whose shard never answered: given up on, so the job can close without it. False if it had answered meanwhile. */
  partUnreached(jobId: string, shard: number): boolean {
    return (
      this.sql
        .exec(
          `UPDATE replay_parts SET state = 'unreached' WHERE job_id = ? AND shard = ? AND state = 'asked' RETURNING shard`,
          jobId,
          shard,
        )
        .toArray().length > 0
    );
  }

  /** The other parts of a job: how many are not over yet, how many were given up on, and the counts of those done. */
  partsOf(jobId: string): { outstanding: number; unreached: number; total: number; delivered: number } {
    return this.sql
      .exec<{ outstanding: number; unreached: number; total: number; delivered: number }>(
        `SELECT count(*) FILTER (WHERE state IN ('asked', 'running')) AS outstanding,
                count(*) FILTER (WHERE state = 'unreached') AS unreached,
                coalesce(sum(total) FILTER (WHERE state = 'done'), 0) AS total,
                coalesce(sum(delivered) FILTER (WHERE state = 'done'), 0) AS delivered
           FROM replay_parts WHERE job_id = ?`,
        jobId,
      )
      .one();
  }

  /** This shard's finished parts whose counts shard 0 has not acknowledged yet. */
  partsToReport(): ReplayJob[] {
    return this.sql.exec<ReplayJob>(`SELECT * FROM replay_jobs WHERE state = 'reporting'`).toArray();
  }

  /** Shard 0 has this part's counts: it ends as complete or incomplete here too. */
  markReported(jobId: string): void {
    this.sql.exec(
      `UPDATE replay_jobs SET state = CASE WHEN delivered = total THEN 'complete' ELSE 'incomplete' END WHERE job_id = ? AND state = 'reporting'`,
      jobId,
    );
  }

  /** Whether this shard has cross-shard replay work outstanding: a part to start, or counts to report. */
  hasShardWork(): boolean {
    return (
      this.sql
        .exec(
          `SELECT 1 FROM replay_jobs WHERE state = 'reporting'
           UNION ALL SELECT 1 FROM replay_parts p JOIN replay_jobs j ON j.job_id = p.job_id WHERE p.state = 'asked' AND j.state = 'running' LIMIT 1`,
        )
        .toArray().length > 0
    );
  }
}
