import { describe, expect, it } from 'vitest';
import type { WebhookHealth } from '../src/app-object/health';
import { SharedPages } from '../src/delivery/reconcile';
import { mergeHealth, mergeWithdrawals } from '../src/delivery/shard-merge';

/** How the answers of an app's shards add up (src/delivery/shard-merge.ts, docs/scaling.md). */
const health = (over: Partial<WebhookHealth>): WebhookHealth => ({
  id: 'w1',
  url: 'https://example.com/hook',
  valid: true,
  path: 'fast',
  consecutiveFailures: 0,
  failingSince: null,
  lastFailureAt: null,
  lastError: null,
  undelivered: 0,
  undeliveredCapped: false,
  oldestUndeliveredAt: null,
  ...over,
});

describe('merging shard answers', () => {
  it("a webhook's health: backlogs add up, the worst streak and the latest error win, slow if any shard says so", () => {
    const merged = mergeHealth([
      [
        health({
          undelivered: 3,
          oldestUndeliveredAt: 50,
          consecutiveFailures: 2,
          failingSince: 40,
          lastFailureAt: 60,
          lastError: 'HTTP 500',
        }),
      ],
      [health({ undelivered: 4, oldestUndeliveredAt: 20, path: 'slow', lastFailureAt: 90, lastError: 'timeout', failingSince: 80 })],
      [health({ valid: false, undeliveredCapped: true })],
    ]);
    expect(merged).toEqual([
      health({
        valid: false,
        path: 'slow',
        consecutiveFailures: 2,
        failingSince: 40,
        lastFailureAt: 90,
        lastError: 'timeout',
        undelivered: 7,
        undeliveredCapped: true,
        oldestUndeliveredAt: 20,
      }),
    ]);
  });

  it('a withdrawal took effect when the last shard’s did, and waits for the longest fence', () => {
    const merged = mergeWithdrawals([
      { effectiveAt: 100, fenceWaitMs: 0, ended: { authorizations: ['a1'], subscriptions: [], xaaSubscriptions: [] } },
      { effectiveAt: 120, fenceWaitMs: 3_000, ended: { authorizations: [], subscriptions: ['s1'], xaaSubscriptions: ['x1'] } },
    ]);
    expect(merged).toEqual({
      effectiveAt: 120,
      fenceWaitMs: 3_000,
      ended: { authorizations: ['a1'], subscriptions: ['s1'], xaaSubscriptions: ['x1'] },
    });
  });

  it('reconcile reads each D1 page once for every shard, and forgets it once all have it', async () => {
    const pages = new SharedPages(3);
    let loads = 0;
    const load = async () => [++loads];
    const seen = await Promise.all([pages.read('a:0', load), pages.read('a:0', load), pages.read('a:0', load)]);
    expect(seen).toEqual([[1], [1], [1]]);
    expect(loads).toBe(1);
    await pages.read('a:0', load);
    expect(loads).toBe(2);
  });
});
