import { describe, expect, it } from 'vitest';
import { DeliveryRun, MAX_CONNECTIONS } from '../src/delivery/delivery-run';
import { afterTimeout, type ObjectApi, type RunItem } from '../src/delivery/delivery-run-ports';
import type { AttemptReport, DeliveryMessage, HandOut } from '../src/domain/delivery-protocol';
import type { AttemptResult } from '../src/domain/retry';

/**
 * Hole 8 of the isolation issue: "a slow tenant hurts other tenants". The consumer's scheduler, with
 * its object calls and POSTs under the test's control: no more than 6 POSTs in flight, a hand-out
 * starts only before its deadline, a hanging webhook holds at most its share and then goes to the
 * slow path, and another app's requests never wait for a connection (so they never time out unsent).
 */
const START_WINDOW = 3_000;

interface Harness {
  now: number;
  inFlight: number;
  maxInFlight: number;
  started: { app: string; seq: number; at: number }[];
  reports: AttemptReport[];
  returned: DeliveryMessage[];
  slowReported: string[];
  hanging: (() => void)[];
}

function message(app: string, webhook: string, seq: number): DeliveryMessage {
  return { app, seq, deliveryId: `msg_${app}_${seq}`, attempt: 1, release: 1, webhook };
}

function setup(options: {
  hangs: (webhook: string) => boolean;
  claimDelayMs?: number;
  path?: 'fast' | 'slow';
  /** Holds an app's claim until the returned promise resolves. */
  claimGate?: (app: string) => Promise<void> | undefined;
}) {
  const h: Harness = { now: 1_000_000, inFlight: 0, maxInFlight: 0, started: [], reports: [], returned: [], slowReported: [], hanging: [] };
  const object: ObjectApi = {
    claim: async (app, items, capacity) => {
      await options.claimGate?.(app);
      h.now += options.claimDelayMs ?? 0;
      return {
        handOuts: items.slice(0, capacity).map(
          (m): HandOut => ({
            seq: m.seq,
            deliveryId: m.deliveryId,
            attempt: m.attempt,
            handOutId: m.seq,
            webhookId: m.webhook,
            url: `https://receiver.example/${m.app}`,
            headers: { 'x-app': m.app },
            body: '{}',
            startBy: h.now - (options.claimDelayMs ?? 0) + START_WINDOW,
            startWithinMs: START_WINDOW,
          }),
        ),
        deferred: items.slice(capacity).map((m) => m.seq),
      };
    },
    report: async (_app, reports, opts) => {
      h.reports.push(...reports);
      h.slowReported.push(...(opts.slowWebhooks ?? []));
      return { goneWebhooks: [], at: h.now, next: [] };
    },
    returnUnclaimed: async (_app, items) => {
      h.returned.push(...items);
    },
  };
  const post = (handOut: HandOut, onSlow: () => void): Promise<AttemptResult> => {
    h.inFlight++;
    h.maxInFlight = Math.max(h.maxInFlight, h.inFlight);
    h.started.push({ app: handOut.headers['x-app'], seq: handOut.seq, at: h.now });
    if (options.hangs(handOut.webhookId)) {
      // A receiver that never answers: the slow threshold passes, then the attempt times out.
      return new Promise((resolve) => {
        h.hanging.push(() => {
          h.inFlight--;
          resolve({ error: 'timeout: no answer within 10000 ms', latencyMs: 10_000 });
        });
        queueMicrotask(onSlow);
      });
    }
    h.inFlight--;
    return Promise.resolve({ status: 200, latencyMs: 5 });
  };
  const items = (messages: DeliveryMessage[]): RunItem[] => messages.map((body) => ({ body, ack: () => {}, retry: () => {} }));
  const run = (messages: DeliveryMessage[]) =>
    new DeliveryRun(
      { now: () => h.now, object: () => object, post, markGone: async () => {}, after: afterTimeout, log: () => {} },
      items(messages),
      {
        budgetMs: 20_000,
        path: options.path ?? 'fast',
      },
    ).run();
  return { h, run };
}

describe('the consumer under production limits', () => {
  it(`never has more than ${MAX_CONNECTIONS} POSTs in flight, however many messages it claims`, async () => {
    const { h, run } = setup({ hangs: () => false });
    await run(Array.from({ length: 60 }, (_, i) => message('1', String(100 + (i % 7)), i + 1)));
    expect(h.started).toHaveLength(60);
    expect(h.maxInFlight).toBeLessThanOrEqual(MAX_CONNECTIONS);
  });

  it("a hanging webhook does not delay another app's requests, and goes to the slow path", async () => {
    const { h, run } = setup({ hangs: (webhook) => webhook === '900' });
    const hangingApp = Array.from({ length: 40 }, (_, i) => message('1', '900', i + 1));
    const otherApp = Array.from({ length: 20 }, (_, i) => message('2', '200', 100 + i));
    const done = run([...hangingApp, ...otherApp]);
    // Let every microtask run: the healthy app's requests are all started before any hung one ends.
    for (let i = 0; i < 50; i++) await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    const startedOther = h.started.filter((s) => s.app === '2');
    expect(startedOther).toHaveLength(20);
    // No request of the healthy app waited: all started at the time they were claimed, within their window.
    for (const s of startedOther) expect(s.at).toBeLessThan(1_000_000 + START_WINDOW);
    // The hanging webhook got no more connections once it showed itself slow, and its object was told.
    const startedHanging = h.started.filter((s) => s.app === '1').length;
    expect(startedHanging).toBeLessThanOrEqual(MAX_CONNECTIONS);
    expect(h.slowReported).toContain('900');
    for (const release of h.hanging.splice(0)) release();
    await done;
    expect(h.maxInFlight).toBeLessThanOrEqual(MAX_CONNECTIONS);
    // Everything of the hanging webhook it did not start went back to its object, to be released on the
    // slow path: unclaimed ones handed back, claimed ones reported unsent.
    const started = new Set(h.started.filter((s) => s.app === '1').map((s) => s.seq));
    const unsent = h.reports.filter((r) => r.startedAt === null).map((r) => r.seq);
    const back = [...h.returned.map((m) => m.seq), ...unsent].sort((a, b) => a - b);
    expect(back).toEqual(hangingApp.map((m) => m.seq).filter((seq) => !started.has(seq)));
  });

  it('keeps connections for an app whose claim is still on its way, so a webhook that hangs meanwhile cannot take them all', async () => {
    // App 2's object answers late; app 1's hand-outs come back first and its receiver hangs.
    let openGate = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    const { h, run } = setup({ hangs: (webhook) => webhook === '900', claimGate: (app) => (app === '2' ? gate : undefined) });
    const hangingApp = Array.from({ length: 40 }, (_, i) => message('1', '900', i + 1));
    // Few enough to be claimed at once: nothing of app 2 is left waiting in the run to speak for it.
    const otherApp = Array.from({ length: 10 }, (_, i) => message('2', '200', 100 + i));
    const done = run([...hangingApp, ...otherApp]);
    const settle = async () => {
      for (let i = 0; i < 50; i++) await Promise.resolve();
      await new Promise((resolve) => setTimeout(resolve, 0));
    };
    await settle();
    // While app 2's claim is out, the hanging webhook holds no more than its half of the connections.
    expect(h.started.filter((s) => s.app === '1').length).toBeLessThanOrEqual(MAX_CONNECTIONS / 2);
    openGate();
    await settle();
    // App 2's requests all started as soon as they came back, none waited on the hung ones.
    expect(h.started.filter((s) => s.app === '2')).toHaveLength(10);
    expect(h.reports.filter((r) => r.startedAt === null && r.seq >= 100)).toEqual([]);
    expect(h.hanging.length).toBeLessThanOrEqual(MAX_CONNECTIONS / 2);
    for (const release of h.hanging.splice(0)) release();
    await done;
    expect(h.started.filter((s) => s.app === '2')).toHaveLength(10);
    expect(h.maxInFlight).toBeLessThanOrEqual(MAX_CONNECTIONS);
  });

  it('on the slow path waits on a hanging webhook with every connection, and reports nothing unsent', async () => {
    // Its webhooks are slow already: a slow answer is no reason to stop starting their requests (a
    // fast run's reason does not apply here, and acting on it would hand them back and forth).
    const { h, run } = setup({ hangs: () => true, path: 'slow' });
    const done = run(Array.from({ length: 12 }, (_, i) => message('1', '900', i + 1)));
    for (let i = 0; i < 50; i++) await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(h.started).toHaveLength(MAX_CONNECTIONS);
    for (const release of h.hanging.splice(0)) release();
    for (let i = 0; i < 50; i++) await Promise.resolve();
    await new Promise((resolve) => setTimeout(resolve, 0));
    for (const release of h.hanging.splice(0)) release();
    await done;
    expect(h.started).toHaveLength(12);
    expect(h.reports.filter((r) => r.startedAt === null)).toEqual([]);
    expect(h.slowReported).toEqual([]);
    expect(h.returned).toEqual([]);
  });

  it('reports a hand-out it can no longer start before its deadline as not sent, and never starts it', async () => {
    // The object's answer arrives after the hand-out's start window has passed.
    const { h, run } = setup({ hangs: () => false, claimDelayMs: START_WINDOW + 1 });
    await run([message('1', '100', 1)]);
    expect(h.started).toHaveLength(0);
    expect(h.reports).toEqual([expect.objectContaining({ seq: 1, startedAt: null, result: null })]);
  });
});
