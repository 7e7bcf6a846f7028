import { describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, judgeAttempt, parseRetryAfter } from '../../src/domain/retry';

const S = DEFAULT_RETRY_SCHEDULE_SECONDS;
const now = 1_000_000;

describe('judgeAttempt', () => {
  it('any 2xx is delivered', () => {
    for (const status of [200, 201, 202, 204, 299])
      expect(judgeAttempt({ status, latencyMs: 1 }, 1, S, now)).toEqual({ kind: 'delivered' });
  });
  it('410 disables', () => {
    expect(judgeAttempt({ status: 410, latencyMs: 1 }, 1, S, now)).toEqual({ kind: 'gone' });
  });
  it("follows X's schedule, then fails", () => {
    const delays = S.map((_, i) => judgeAttempt({ status: 500, latencyMs: 1 }, i + 1, S, now));
    expect(delays.map((v) => (v.kind === 'retry' ? v.delayMs / 1000 : v.kind))).toEqual([3, 27, 242, 1800, 7200, 21600, 43200, 86400]);
    expect(judgeAttempt({ status: 500, latencyMs: 1 }, S.length + 1, S, now)).toEqual({ kind: 'failed' });
  });
  it('network errors, timeouts and redirects are retried', () => {
    expect(judgeAttempt({ error: 'timeout', latencyMs: 10_000 }, 1, S, now).kind).toBe('retry');
    expect(judgeAttempt({ status: 302, latencyMs: 1 }, 1, S, now).kind).toBe('retry');
  });
  it('honours retry-after on 429 and 503', () => {
    expect(judgeAttempt({ status: 429, latencyMs: 1, retryAfter: '120' }, 1, S, now)).toEqual({ kind: 'retry', delayMs: 120_000 });
    expect(judgeAttempt({ status: 503, latencyMs: 1, retryAfter: '7' }, 2, S, now)).toEqual({ kind: 'retry', delayMs: 7_000 });
    expect(judgeAttempt({ status: 500, latencyMs: 1, retryAfter: '120' }, 1, S, now)).toEqual({ kind: 'retry', delayMs: 3_000 });
    expect(judgeAttempt({ status: 429, latencyMs: 1 }, 1, S, now)).toEqual({ kind: 'retry', delayMs: 3_000 });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, caps at a day', () => {
    expect(parseRetryAfter('30', now)).toBe(30_000);
    expect(parseRetryAfter(new Date(now + 60_000).toUTCString(), now)).toBeGreaterThan(58_000);
    expect(parseRetryAfter('999999999', now)).toBe(86_400_000);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
