import { DurableObject } from 'cloudflare:workers';
import { decide, type LimitDecision, peek } from '../domain/rate-limits';
import { countCall } from '../observability/work-counters';

/**
 * Request counters of one subject (an app, or the platform): one row per endpoint with the current
 * window's count, in SQLite storage so a restart or another isolate never resets a limit. Addressed
 * by subject (`rate:app:<id>`, `rate:platform`), never by anything about the caller's network.
 */
export class RateLimiterObject extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS counters (endpoint TEXT PRIMARY KEY, window_start INTEGER NOT NULL, count INTEGER NOT NULL)',
      );
    });
  }

  private stored(endpoint: string) {
    const row = this.ctx.storage.sql
      .exec<{ window_start: number; count: number }>('SELECT window_start, count FROM counters WHERE endpoint = ?', endpoint)
      .toArray()[0];
    return row ? { windowStart: row.window_start, count: row.count } : null;
  }

  /** Whether one more request would be allowed, without counting it (sign-in counts only its failures). */
  async peek(endpoint: string, limit: number, windowMs: number): Promise<LimitDecision> {
    return peek(this.stored(endpoint), limit, windowMs, Date.now());
  }

  /** The current window's count of every endpoint this subject has used (the portal's usage page). */
  async usage(): Promise<{ endpoint: string; windowStart: number; count: number }[]> {
    return this.ctx.storage.sql
      .exec<{ endpoint: string; window_start: number; count: number }>(
        'SELECT endpoint, window_start, count FROM counters ORDER BY endpoint',
      )
      .toArray()
      .map((r) => ({ endpoint: r.endpoint, windowStart: r.window_start, count: r.count }));
  }

  async hit(endpoint: string, limit: number, windowMs: number): Promise<LimitDecision> {
    const sql = this.ctx.storage.sql;
    const { decision, next } = decide(this.stored(endpoint), limit, windowMs, Date.now());
    if (decision.allowed) {
      sql.exec(
        'INSERT INTO counters (endpoint, window_start, count) VALUES (?, ?, ?) ON CONFLICT (endpoint) DO UPDATE SET window_start = excluded.window_start, count = excluded.count',
        endpoint,
        next.windowStart,
        next.count,
      );
    }
    return decision;
  }
}

export const rateLimiter = (env: Env, subject: string) => {
  countCall('rate_limit');
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`rate:${subject}`));
};
