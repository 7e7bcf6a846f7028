import type { MessageRow } from './outbox-store';

/** A replay job as the object keeps it (docs/delivery.md, "Replay"). */
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

  finishJob(jobId: string, state: 'complete' | 'incomplete', now: number): void {
    this.sql.exec(`UPDATE replay_jobs SET state = ?, finished_at = ? WHERE job_id = ?`, state, now, jobId);
  }
}
