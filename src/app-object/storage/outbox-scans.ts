import { type OutboxRow, REPLAY_LANE_PATTERN } from './outbox-rows';

/**
 * Questions across every lane of the outbox, read-only: what the alarm's sweep has due (heads to
 * release, stale releases, unreported hand-outs, its next wake-up), what a claim or report may pull,
 * how much is in flight, and whether a replay job has copies left. The lanes' state machine, which
 * writes, is Outbox (outbox-store.ts); what withdrawals and the console read is OutboxViews.
 */
export class OutboxScans {
  constructor(private readonly sql: SqlStorage) {}

  /** Waiting lane heads that are due, across all lanes (the alarm's sweep). Held heads never count. */
  dueHeads(now: number, limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(
        `SELECT o.* FROM outbox o
         WHERE o.state = 'waiting' AND o.not_before <= ?
           AND o.seq = (SELECT MIN(h.seq) FROM outbox h WHERE h.lane = o.lane)
         ORDER BY o.seq LIMIT ?`,
        now,
        limit,
      )
      .toArray();
  }

  /**
   * Released rows, live deliveries before replay copies, each oldest release first (markReleased
   * keeps the release time in `not_before`, so the due index orders them): a report pulling work for
   * its run takes live events ahead of a replay's backlog.
   */
  releasedRows(limit: number): OutboxRow[] {
    const live = this.sql
      .exec<OutboxRow>(
        `SELECT * FROM outbox WHERE state = 'released' AND lane NOT LIKE ? ORDER BY not_before LIMIT ?`,
        REPLAY_LANE_PATTERN,
        limit,
      )
      .toArray();
    if (live.length >= limit) return live;
    const copies = this.sql
      .exec<OutboxRow>(
        `SELECT * FROM outbox WHERE state = 'released' AND lane LIKE ? ORDER BY not_before LIMIT ?`,
        REPLAY_LANE_PATTERN,
        limit - live.length,
      )
      .toArray();
    return live.concat(copies);
  }

  /**
   * Releases not claimed within the lease (their queue message may be lost): released again. A
   * released row keeps its release time in `not_before` (markReleased), so this reads only the stale
   * ones off the due index instead of every release in flight.
   */
  staleReleases(before: number, limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(`SELECT * FROM outbox WHERE state = 'released' AND not_before <= ? ORDER BY seq LIMIT ?`, before, limit)
      .toArray();
  }

  /** Hand-outs whose outcome never came back within their lease. */
  unreportedHandOuts(startByBefore: number, limit: number): OutboxRow[] {
    return this.sql
      .exec<OutboxRow>(`SELECT * FROM outbox WHERE state = 'handed' AND not_before <= ? ORDER BY seq LIMIT ?`, startByBefore, limit)
      .toArray();
  }

  /**
   * The earliest time the alarm has work: a waiting row coming due, a release or a hand-out whose
   * lease ends. Due waiting rows are released at once or held, so only future times count. Each
   * branch is the first entry of a range of the due index (a released row's `not_before` is its
   * release time, a handed one's its start deadline).
   */
  nextWakeUp(now: number, leases: { releaseMs: number; handOutMs: number }): number | null {
    return this.sql
      .exec<{ t: number | null }>(
        `SELECT MIN(t) AS t FROM (
           SELECT MIN(not_before) AS t FROM outbox WHERE state = 'waiting' AND not_before > ?
           UNION ALL SELECT MIN(not_before) + ? AS t FROM outbox WHERE state = 'released'
           UNION ALL SELECT MIN(not_before) + ? AS t FROM outbox WHERE state = 'handed')`,
        now,
        leases.releaseMs,
        leases.handOutMs,
      )
      .one().t;
  }

  /** Releases on the queue or hand-outs not yet reported back. */
  inFlightCount(): number {
    return this.sql.exec<{ n: number }>(`SELECT count(*) AS n FROM outbox WHERE state IN ('released', 'handed')`).one().n;
  }

  /** Whether a replay job still has a copy in the outbox (schema version 6: one index probe). */
  jobHasPending(jobId: string): boolean {
    return this.sql.exec(`SELECT 1 FROM messages WHERE replay_job_id = ? AND state = 'pending' LIMIT 1`, jobId).toArray().length > 0;
  }
}
