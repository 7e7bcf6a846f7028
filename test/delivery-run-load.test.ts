import { describe, expect, it } from 'vitest';
import { DeliveryRun } from '../src/delivery/delivery-run';
import { afterTimeout, type ObjectApi } from '../src/delivery/delivery-run-ports';
import type { DeliveryMessage, HandOut } from '../src/domain/delivery-protocol';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeliveryRun under load', () => {
  it('finishes a batch of many apps promptly', async () => {
    let maxInFlight = 0;
    let inFlight = 0;
    const object: ObjectApi = {
      claim: async (_app, items, capacity) => {
        await tick(Math.random() * 5);
        return {
          handOuts: items.slice(0, capacity).map(
            (m): HandOut => ({
              seq: m.seq,
              deliveryId: m.deliveryId,
              attempt: 1,
              handOutId: m.seq,
              webhookId: m.webhook,
              url: 'u',
              headers: {},
              body: '',
              startBy: Date.now() + 3000,
              startWithinMs: 3000,
            }),
          ),
          deferred: [],
        };
      },
      report: async () => {
        await tick(Math.random() * 5);
        return { goneWebhooks: [], at: Date.now(), next: [] };
      },
      returnUnclaimed: async () => {},
    };
    const items = Array.from(
      { length: 100 },
      (_, i): DeliveryMessage => ({
        app: String(1 + (i % 50)),
        seq: i + 1,
        deliveryId: `d${i}`,
        attempt: 1,
        release: 1,
        webhook: String(100 + (i % 50)),
      }),
    );
    let acked = 0;
    const started = Date.now();
    await new DeliveryRun(
      {
        now: () => Date.now(),
        object: () => object,
        post: async () => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await tick(1 + Math.random() * 3);
          inFlight--;
          return { status: 200, latencyMs: 2 };
        },
        markGone: async () => {},
        after: afterTimeout,
        log: () => {},
      },
      items.map((body) => ({ body, ack: () => acked++, retry: () => {} })),
      { budgetMs: 20_000, path: 'fast' },
    ).run();
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(acked).toBe(100);
    expect(maxInFlight).toBeLessThanOrEqual(6);
  });
});
