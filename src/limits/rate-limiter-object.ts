import { DurableObject } from 'cloudflare:workers';
import { decide, type LimitDecision } from '../domain/rate-limits';
import { countWork } from '../observability/work-counters';

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

  async hit(endpoint: string, limit: number, windowMs: number): Promise<LimitDecision> {
    const sql = this.ctx.storage.sql;
    const row = sql
      .exec<{ window_start: number; count: number }>('SELECT window_start, count FROM counters WHERE endpoint = ?', endpoint)
      .toArray()[0];
    const { decision, next } = decide(row ? { windowStart: row.window_start, count: row.count } : null, limit, windowMs, Date.now());
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
  countWork('do_requests');
  return env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`rate:${subject}`));
};
