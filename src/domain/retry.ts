/**
 * What one delivery attempt's result means, and when the next attempt may go (docs/delivery.md,
 * "Attempts and retries"). Pure.
 */
export type AttemptResult = { status: number; latencyMs: number; retryAfter?: string | null } | { error: string; latencyMs: number };

type Verdict =
  | { kind: 'delivered' }
  /** 410 Gone: the receiver asked to be disabled; the webhook becomes invalid and its lanes are held. */
  | { kind: 'gone' }
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed' };

/** X's schedule after the first attempt: 3 s, 27 s, 242 s, then 30 min, 2 h, 6 h, 12 h, 24 h. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [3, 27, 242, 1800, 7200, 21600, 43200, 86400];

/** Longest `retry-after` we honour; anything longer is capped (a receiver cannot park a lane for weeks). */
const MAX_RETRY_AFTER_MS = 24 * 3_600_000;

/** `retry-after` as delta-seconds or an HTTP date, in ms from `now`; null if absent or unusable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, MAX_RETRY_AFTER_MS);
  const date = Date.parse(trimmed);
  if (!Number.isFinite(date)) return null;
  return Math.min(Math.max(date - now, 0), MAX_RETRY_AFTER_MS);
}

/**
 * `attempt` is the number of the attempt that just finished (1 for the first). After the last
 * scheduled retry the delivery has failed.
 */
export function judgeAttempt(result: AttemptResult, attempt: number, scheduleSeconds: number[], now: number): Verdict {
  if ('status' in result) {
    if (result.status >= 200 && result.status < 300) return { kind: 'delivered' };
    if (result.status === 410) return { kind: 'gone' };
  }
  if (attempt > scheduleSeconds.length) return { kind: 'failed' };
  const scheduled = scheduleSeconds[attempt - 1] * 1000;
  if ('status' in result && (result.status === 429 || result.status === 503)) {
    const asked = parseRetryAfter(result.retryAfter, now);
    if (asked !== null) return { kind: 'retry', delayMs: asked };
  }
  return { kind: 'retry', delayMs: scheduled };
}

/** How an attempt's result is written in the ledger. */
export const describeResult = (result: AttemptResult): { statusCode: number | null; error: string | null } =>
  'status' in result ? { statusCode: result.status, error: null } : { statusCode: null, error: result.error };
