import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, decide, limitsFrom } from '../../src/domain/rate-limits';

const W = 900_000;

describe('decide', () => {
  it('counts within a window and refuses past the limit without counting the refusal', () => {
    let stored = null;
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const { decision, next } = decide(stored, 3, W, 10 * W + 5);
      seen.push([decision.allowed, decision.remaining]);
      stored = next;
    }
    expect(seen).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(stored).toEqual({ windowStart: 10 * W, count: 3 });
  });
  it('starts afresh in the next window and says when the window resets', () => {
    const { decision } = decide({ windowStart: 10 * W, count: 3 }, 3, W, 11 * W);
    expect(decision).toEqual({ allowed: true, limit: 3, remaining: 2, resetAt: 12 * W });
  });
});

describe('limitsFrom', () => {
  it("uses X's figures by default", () => {
    expect(limitsFrom(undefined)).toMatchObject({
      'webhooks:create': 15,
      'subscriptions:create': 500,
      'subscriptions:list': 50,
      'subscriptions:count': 15,
      replay: 5,
    });
  });
  it('takes overrides for known endpoints only, and ignores a malformed setting', () => {
    expect(limitsFrom('{"replay": 50, "nope": 1, "webhooks:list": -1}')).toMatchObject({ replay: 50, 'webhooks:list': 15 });
    expect(limitsFrom('{oops')).toEqual(DEFAULT_LIMITS);
  });
});
