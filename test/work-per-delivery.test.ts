import { describe, expect, it, vi } from 'vitest';
import { ingest, testUser } from './support/activities';
import { activeApp, registerWebhook, subscribe } from './support/apps';
import { platform } from './support/http';
import { installReceivers, receiverUrl } from './support/receivers';

/**
 * The billable work per delivery (docs/scaling.md, "What a delivery costs") must not grow unnoticed.
 * A fixed scenario, many apps with few users each (the shape that costs the most object calls), is
 * delivered end to end through the real queue and objects; the service's own counters are divided by
 * deliveries. When the bounds were set (2026-11-25) three runs measured, per delivery: DO requests
 * 0.375–0.44, queue messages written 0.195–0.215, D1 rows written 4, object rows written 22, one
 * outbound request. On 2026-11-26 a final attempt's outcome and its message's end became one write:
 * object rows written 21. Call counts depend on how the local queue batches, so their bounds leave room;
 * row counts are exact, so theirs leave one row. A change that adds an object call or a storage write
 * per delivery fails here, and its author either removes it or raises the bound with a reason in the
 * commit and the new figure in docs/scaling.md.
 */
const APPS = 5;
const USERS_PER_APP = 4;
const TWEETS_PER_USER = 10;

const BOUNDS = {
  do_requests: 0.6,
  queue_messages_written: 0.5,
  d1_rows_written: 5,
  object_rows_written: 22,
  outbound_requests: 1,
};

describe('billable work per delivery', () => {
  it(`stays within its bounds for ${APPS} apps × ${USERS_PER_APP} users`, async () => {
    const receivers = installReceivers();
    const urls: string[] = [];
    const activities: Record<string, unknown>[] = [];
    for (let a = 0; a < APPS; a++) {
      const app = await activeApp();
      const url = receiverUrl();
      receivers.set(url, app.consumerSecret);
      const hook = await registerWebhook(app, url);
      urls.push(url);
      for (let u = 0; u < USERS_PER_APP; u++) {
        const userId = `${7_100_000 + a * 100 + u}`;
        await subscribe(app, hook.id, userId);
        for (let t = 0; t < TWEETS_PER_USER; t++) {
          activities.push({
            id: `work-${userId}-${t}`,
            type: 'tweet_create',
            tweet: { id: `${userId}${t}`, text: `tweet ${t}`, author: testUser(userId) },
          });
        }
      }
    }
    const expected = APPS * USERS_PER_APP * TWEETS_PER_USER;

    await platform('DELETE', '/internal/metrics/work');
    for (let i = 0; i < activities.length; i += 100) await ingest(...activities.slice(i, i + 100));
    await vi.waitFor(() => expect(urls.reduce((n, url) => n + receivers.posts(url).length, 0)).toBe(expected), {
      timeout: 30_000,
      interval: 50,
    });
    // Reports ride after the POSTs; let the last ones land before reading the counters.
    await vi.waitFor(
      async () => {
        const counts = (await platform('GET', '/internal/metrics/work')).body.data as Record<string, number>;
        expect(counts.deliveries).toBe(expected);
      },
      { timeout: 10_000, interval: 50 },
    );
    const { do_requests_by_method: byMethod, ...counts } = (await platform('GET', '/internal/metrics/work')).body.data as Record<
      string,
      number
    > & { do_requests_by_method: Record<string, number> };
    const perDelivery = Object.fromEntries(Object.entries(counts).map(([kind, n]) => [kind, n / counts.deliveries]));
    console.log(
      `work per delivery (${APPS} apps × ${USERS_PER_APP} users): ${JSON.stringify(perDelivery)}; calls: ${JSON.stringify(byMethod)}`,
    );
    // Every object request is named by what it called: a delivery makes only these kinds of call, so a
    // new kind of call on the delivery path shows here by name, before it shows in the totals.
    const expectedCalls = ['rate_limit', 'ingest', 'claim', 'report', 'alarm', 'returnUnclaimed'];
    expect(Object.keys(byMethod).filter((method) => !expectedCalls.includes(method))).toEqual([]);
    expect(byMethod.ingest).toBeGreaterThan(0);
    expect(byMethod.claim).toBeGreaterThan(0);
    expect(byMethod.report).toBeGreaterThan(0);
    for (const [kind, bound] of Object.entries(BOUNDS)) {
      expect(perDelivery[kind], `${kind} per delivery`).toBeLessThanOrEqual(bound);
    }
    expect(perDelivery.outbound_requests).toBe(1);
  });
});
