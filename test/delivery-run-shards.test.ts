import { describe, expect, it } from 'vitest';
import { DeliveryRun } from '../src/delivery/delivery-run';
import { afterTimeout, type ObjectApi, type RunItem } from '../src/delivery/delivery-run-ports';
import { IDLE_SHARD_POLL_MS } from '../src/domain/consumer-pacing';
import type { DeliveryMessage, HandOut } from '../src/domain/delivery-protocol';
import { appIdOf, objectKeyOf } from '../src/domain/shards';

/**
 * A consumer run and the shards of one app: while one shard keeps the run busy (a replay's copies
 * followed through its reports), a live event released in another shard, which the run no longer
 * holds anything of, must not wait for its queue message (behind this very run, on a queue that runs
 * one batch at a time). The run asks such a shard for released work every IDLE_SHARD_POLL_MS, and
 * never asks an idle object of an app that has no other object busy in the run.
 */
const POST_MS = 10;

interface FakeObject {
  /** Hand-outs its reports chain, one per finished attempt, while it has any (a replay's copies). */
  backlog: number[];
  /** A live event released at this time, handed out to the first claim after it. */
  live?: { seq: number; at: number; handedOut: boolean };
  /** This many of the run's polls (claims with no messages) fail, as they would while the object restarts. */
  failingPolls?: number;
}

function setup(objects: Record<string, FakeObject>) {
  const clock = { now: 1_000_000 };
  const started: { key: string; seq: number; at: number }[] = [];
  const emptyClaims: { key: string; at: number }[] = [];
  const handOut = (key: string, seq: number): HandOut => ({
    seq,
    deliveryId: `msg_${key}_${seq}`,
    attempt: 1,
    handOutId: seq,
    webhookId: '500',
    url: 'https://receiver.example/hook',
    headers: { 'x-object': key },
    body: '{}',
    startBy: clock.now + 3_000,
    startWithinMs: 3_000,
  });
  const liveFor = (key: string): HandOut[] => {
    const live = objects[key].live;
    if (!live || live.handedOut || clock.now < live.at) return [];
    live.handedOut = true;
    return [handOut(key, live.seq)];
  };
  const objectFor = (key: string): ObjectApi => ({
    claim: async (appId, items, capacity) => {
      expect(appId).toBe(appIdOf(key));
      if (items.length === 0) emptyClaims.push({ key, at: clock.now });
      if (items.length === 0 && (objects[key].failingPolls ?? 0) > 0) {
        objects[key].failingPolls = (objects[key].failingPolls ?? 0) - 1;
        throw new Error('Durable Object reset because its code was updated.');
      }
      const out = [...liveFor(key), ...items.map((m) => handOut(key, m.seq))].slice(0, capacity);
      return { handOuts: out, deferred: [] };
    },
    report: async (_appId, reports, options) => {
      const next = liveFor(key);
      const backlog = objects[key].backlog;
      while (next.length < Math.min(reports.length, options.capacity ?? 0) && backlog.length > 0) next.push(handOut(key, backlog.shift()!));
      return { goneWebhooks: [], at: clock.now, next };
    },
    returnUnclaimed: async () => {},
  });
  const post = async (h: HandOut) => {
    started.push({ key: h.headers['x-object'], seq: h.seq, at: clock.now });
    await new Promise((resolve) => setTimeout(resolve, 0));
    clock.now += POST_MS;
    return { status: 200, latencyMs: POST_MS };
  };
  const run = (messages: DeliveryMessage[]) =>
    new DeliveryRun(
      {
        now: () => clock.now,
        object: objectFor,
        post,
        markGone: async () => {},
        after: afterTimeout,
        log: () => {},
      },
      messages.map((body): RunItem => ({ body, ack: () => {}, retry: () => {} })),
      { budgetMs: 20_000, path: 'fast' },
    ).run();
  return { clock, started, emptyClaims, run };
}

const message = (app: string, seq: number, shard?: number): DeliveryMessage => ({
  app,
  seq,
  deliveryId: `msg_${seq}`,
  attempt: 1,
  release: 1,
  webhook: '500',
  ...(shard ? { shard } : {}),
});

describe('a consumer run and the shards of one app', () => {
  it('asks an idle shard for released work while another shard keeps the run busy, so its live event does not wait for the run to end', async () => {
    const start = 1_000_000;
    const liveAt = start + 150; // after the shard's one message was sent and reported: it is idle in the run by then
    const objects: Record<string, FakeObject> = {
      '7': { backlog: Array.from({ length: 120 }, (_, i) => 100 + i) },
      '7/1': { backlog: [], live: { seq: 9_001, at: liveAt, handedOut: false } },
    };
    const { started, emptyClaims, run } = setup(objects);
    await run([...Array.from({ length: 6 }, (_, i) => message('7', 1 + i)), message('7', 50, 1)]);

    const live = started.find((s) => s.seq === 9_001);
    expect(live, 'the live event of the idle shard was started in this run').toBeDefined();
    expect(live!.key).toBe('7/1');
    expect(live!.at - liveAt).toBeLessThanOrEqual(IDLE_SHARD_POLL_MS + 10 * POST_MS);
    // The busy shard's copies all went too, and the run ended once both shards were idle.
    expect(started.filter((s) => s.key === '7')).toHaveLength(126);
    // Polls are spaced: no more than one per interval for the idle shard, none for the busy one.
    expect(emptyClaims.every((c) => c.key === '7/1')).toBe(true);
    for (let i = 1; i < emptyClaims.length; i++)
      expect(emptyClaims[i].at - emptyClaims[i - 1].at).toBeGreaterThanOrEqual(IDLE_SHARD_POLL_MS);
    const lastCopy = Math.max(...started.filter((s) => s.key === '7').map((s) => s.at));
    expect(emptyClaims.length).toBeLessThanOrEqual(Math.ceil((lastCopy - start) / IDLE_SHARD_POLL_MS) + 1);
  });

  it('asks an idle shard again at the next interval when a poll fails, and the run still ends', async () => {
    const start = 1_000_000;
    const liveAt = start + 150;
    const objects: Record<string, FakeObject> = {
      '7': { backlog: Array.from({ length: 120 }, (_, i) => 100 + i) },
      '7/1': { backlog: [], live: { seq: 9_001, at: liveAt, handedOut: false }, failingPolls: 2 },
    };
    const { started, emptyClaims, run } = setup(objects);
    await run([...Array.from({ length: 6 }, (_, i) => message('7', 1 + i)), message('7', 50, 1)]);

    expect(objects['7/1'].failingPolls).toBe(0);
    // The failed polls were asked again at the interval, not at once, and the third brought the event.
    for (let i = 1; i < emptyClaims.length; i++)
      expect(emptyClaims[i].at - emptyClaims[i - 1].at).toBeGreaterThanOrEqual(IDLE_SHARD_POLL_MS);
    const live = started.find((s) => s.seq === 9_001);
    expect(live?.key).toBe('7/1');
    expect(live!.at - liveAt).toBeLessThanOrEqual(3 * IDLE_SHARD_POLL_MS + 10 * POST_MS);
    expect(started.filter((s) => s.key === '7')).toHaveLength(126);
  });

  it('never asks an idle object of an app with no other object busy in the run (unsharded apps pay nothing)', async () => {
    const objects: Record<string, FakeObject> = {
      '7': { backlog: Array.from({ length: 120 }, (_, i) => 100 + i) },
      // Another app, idle once its one message is sent; its later release waits for its queue message.
      '8': { backlog: [], live: { seq: 9_001, at: 1_000_050, handedOut: false } },
    };
    const { started, emptyClaims, run } = setup(objects);
    await run([...Array.from({ length: 6 }, (_, i) => message('7', 1 + i)), message('8', 50)]);
    expect(emptyClaims).toEqual([]);
    expect(started.filter((s) => s.key === objectKeyOf({ app: '7' }))).toHaveLength(126);
  });
});
