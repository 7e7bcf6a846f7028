import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import type { AppDeliveryObject } from '../src/app-object/app-delivery-object';
import type { ShardCalls } from '../src/app-object/ports';
import { appObject } from '../src/delivery/app-objects';
import { shardOfUser } from '../src/domain/shards';
import { ingest, testUser as u } from './support/activities';
import { activeApp, registerWebhook, subscribe, type TestApp } from './support/apps';
import { call, expectProblem, platform } from './support/http';
import { installReceivers, type Receivers, receiverUrl } from './support/receivers';
import { ageApp, replayDate } from './support/time';

/**
 * Replay of an app sharded over several objects (docs/scaling.md, "Replay over shards"): one job over
 * every shard, exactly the copies the unsharded app makes, one status event with the summed counts,
 * one job per webhook across shards, and calls between shards that fail are made again until the job
 * closes, once.
 */
const SHARDS = 4;
const HOUR = 3_600_000;
const USERS = Array.from({ length: 12 }, (_, i) => String(i + 1));

let receivers: Receivers;
let plain: TestApp;
let sharded: TestApp;
/** A second sharded app for the last two tests: X allows an app 5 replay requests per 15 minutes. */
let second: TestApp;
let plainHook: string;
let shardedHook: string;
let secondHook: string;
const PLAIN_URL = receiverUrl('/plain');
const SHARDED_URL = receiverUrl('/sharded');
const SECOND_URL = receiverUrl('/second');
/** How many copies a replay of the whole window makes (the first test measures it on the unsharded app). */
let windowCopies = 0;

const replayPath = (webhookId: string) => {
  const now = Date.now();
  return `/2/account_activity/replay/webhooks/${webhookId}/subscriptions/all?from_date=${replayDate(now - 2 * HOUR)}&to_date=${replayDate(now)}`;
};

async function startReplay(app: TestApp, webhookId: string): Promise<string> {
  const res = await call('POST', replayPath(webhookId), { token: app.bearer });
  expect(res.status).toBe(200);
  return res.body.data.job_id;
}

const body = (post: { body: string }) => JSON.parse(post.body);
const statuses = (url: string, jobId: string) => receivers.posts(url).filter((p) => body(p).replay_job_status?.job_id === jobId);
const copies = (url: string, jobId: string) => receivers.posts(url).filter((p) => p.headers.get('x-replay-job-id') === jobId);

/** Waits for the job's status event, then a little longer, and returns every status event the job sent. */
async function finished(url: string, jobId: string) {
  await vi.waitFor(() => expect(statuses(url, jobId).length).toBeGreaterThan(0), { timeout: 20_000, interval: 100 });
  await new Promise((resolve) => setTimeout(resolve, 300)); // a second status would be here by now
  return statuses(url, jobId).map((p) => body(p).replay_job_status);
}

/** Each user's replayed bodies, in the order the receiver got them. */
function perUser(url: string, jobId: string): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const post of copies(url, jobId)) byUser.set(body(post).for_user_id, [...(byUser.get(body(post).for_user_id) ?? []), post.body]);
  return byUser;
}

/** Replaces, in one shard's live object, the calls it makes to its sibling shards (restore with the returned function). */
async function interceptShardCalls(
  shard: number,
  wrap: (real: ShardCalls) => ShardCalls,
  app: TestApp = sharded,
): Promise<() => Promise<void>> {
  const portsOf = (instance: unknown) => (instance as { api: { delivery: { ports: { shards: ShardCalls } } } }).api.delivery.ports;
  const real = await runInDurableObject(appObject(env, app.id, shard), (instance) => {
    const ports = portsOf(instance);
    const original = ports.shards;
    ports.shards = wrap(original);
    return original;
  });
  return () =>
    runInDurableObject(appObject(env, app.id, shard), (instance) => {
      portsOf(instance).shards = real;
    });
}

/** A receiver that holds every replay copy until released (live and status posts pass). */
function holdCopies(url: string) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  receivers.onPost(url, async (request) => {
    if (request.headers.get('x-replay-job-id')) await gate;
    return new Response(null, { status: 200 });
  });
  return () => {
    release();
    receivers.onPost(url, undefined);
  };
}

beforeAll(async () => {
  receivers = installReceivers();
  plain = await activeApp({ name: 'Plain replay' });
  sharded = await activeApp({ name: 'Sharded replay', delivery_shards: SHARDS });
  second = await activeApp({ name: 'Sharded replay 2', delivery_shards: SHARDS });
  receivers.set(PLAIN_URL, plain.consumerSecret);
  receivers.set(SHARDED_URL, sharded.consumerSecret);
  receivers.set(SECOND_URL, second.consumerSecret);
  plainHook = (await registerWebhook(plain, PLAIN_URL)).id;
  shardedHook = (await registerWebhook(sharded, SHARDED_URL)).id;
  secondHook = (await registerWebhook(second, SECOND_URL)).id;
  for (const user of USERS) {
    await subscribe(plain, plainHook, user, ['tweet.read', 'dm.read']);
    await subscribe(sharded, shardedHook, user, ['tweet.read', 'dm.read']);
    await subscribe(second, secondHook, user, ['tweet.read', 'dm.read']);
  }
  const activities = USERS.flatMap((user, i) => [
    { id: `srp-t-${user}`, type: 'tweet_create', tweet: { id: `7${user}`, text: `t${user}`, author: u(user) } },
    {
      id: `srp-dm-${user}`,
      type: 'direct_message',
      message: { id: `8${user}`, sender: u(user), recipient: u(USERS[(i + 5) % USERS.length]), text: `dm${user}` },
    },
  ]);
  await ingest(...activities);
  await vi.waitFor(
    () => {
      expect(receivers.posts(PLAIN_URL).length).toBeGreaterThanOrEqual(36);
      expect(receivers.posts(SHARDED_URL).length).toBe(receivers.posts(PLAIN_URL).length);
      expect(receivers.posts(SECOND_URL).length).toBe(receivers.posts(PLAIN_URL).length);
    },
    { timeout: 20_000, interval: 200 },
  );
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(receivers.posts(SHARDED_URL).length).toBe(receivers.posts(PLAIN_URL).length);
  await ageApp(plain.id, HOUR);
  await ageApp(sharded.id, HOUR, SHARDS);
  await ageApp(second.id, HOUR, SHARDS);
}, 60_000);

describe('replay of an app sharded over objects', () => {
  it('replays exactly what the unsharded app replays, in order per user, with one status for the whole job', async () => {
    expect(new Set(USERS.map((user) => shardOfUser(user, SHARDS))).size).toBe(SHARDS);
    const plainJob = await startReplay(plain, plainHook);
    const shardedJob = await startReplay(sharded, shardedHook);
    const [plainStatus] = await finished(PLAIN_URL, plainJob);
    const shardedStatuses = await finished(SHARDED_URL, shardedJob);

    windowCopies = copies(PLAIN_URL, plainJob).length;
    expect(windowCopies).toBe(receivers.posts(PLAIN_URL).filter((p) => !p.headers.get('x-replay-job-id')).length - 1);
    expect(perUser(SHARDED_URL, shardedJob)).toEqual(perUser(PLAIN_URL, plainJob));
    expect(shardedStatuses).toHaveLength(1);
    expect(shardedStatuses[0]).toMatchObject({ job_state: 'Complete', webhook_id: shardedHook, job_id: shardedJob });
    expect(shardedStatuses[0].job_state_description).toBe(plainStatus.job_state_description);
    expect(plainStatus.job_state_description).toBe(`Replay of ${windowCopies} events completed`);
    // Each copy carries its original's webhook-id, once.
    const originals = new Set(
      receivers
        .posts(SHARDED_URL)
        .filter((p) => !p.headers.get('x-replay-job-id'))
        .map((p) => p.headers.get('webhook-id')),
    );
    const ids = copies(SHARDED_URL, shardedJob).map((p) => p.headers.get('webhook-id'));
    expect(new Set(ids).size).toBe(windowCopies);
    for (const id of ids) expect(originals.has(id)).toBe(true);
    // The job's parts are on record in every shard, and shard 0 holds them all as done.
    const parts = await runInDurableObject(appObject(env, sharded.id), (_o, s) =>
      s.storage.sql
        .exec<{ shard: number; state: string }>('SELECT shard, state FROM replay_parts WHERE job_id = ? ORDER BY shard', shardedJob)
        .toArray(),
    );
    expect(parts).toEqual([1, 2, 3].map((shard) => ({ shard, state: 'done' })));
    for (let shard = 1; shard < SHARDS; shard++) {
      const [part] = await runInDurableObject(appObject(env, sharded.id, shard), (_o, s) =>
        s.storage.sql
          .exec<{ state: string; total: number; delivered: number }>('SELECT state, total, delivered FROM replay_jobs')
          .toArray(),
      );
      expect(part.state).toBe('complete');
      expect(part.delivered).toBe(part.total);
      expect(part.total).toBe(copies(SHARDED_URL, shardedJob).filter((p) => shardOfUser(body(p).for_user_id, SHARDS) === shard).length);
    }
  });

  it('reports a part again from its alarm when shard 0 could not take its counts, and still sends one status', async () => {
    let refused = 0;
    const restore = await interceptShardCalls(2, (real) => ({
      ...real,
      replayPartFinished: (appId, part) =>
        refused++ === 0 ? Promise.reject(new Error('shard 0 unreachable')) : real.replayPartFinished(appId, part),
    }));
    try {
      const job = await startReplay(sharded, shardedHook);
      const statusEvents = await finished(SHARDED_URL, job);
      expect(refused).toBeGreaterThanOrEqual(2); // refused once, then taken
      expect(statusEvents).toEqual([
        expect.objectContaining({ job_state: 'Complete', job_state_description: `Replay of ${windowCopies} events completed` }),
      ]);
      expect(copies(SHARDED_URL, job)).toHaveLength(windowCopies);
    } finally {
      await restore();
    }
  });

  it('asks a shard again from its alarm when it could not be reached to start its part; nothing is lost or doubled', async () => {
    let refused = 0;
    const restore = await interceptShardCalls(0, (real) => ({
      ...real,
      startReplayPart: (appId, shard, job) =>
        shard === 3 && refused++ === 0 ? Promise.reject(new Error('shard 3 unreachable')) : real.startReplayPart(appId, shard, job),
    }));
    try {
      const job = await startReplay(sharded, shardedHook);
      const statusEvents = await finished(SHARDED_URL, job);
      expect(refused).toBeGreaterThanOrEqual(2);
      expect(statusEvents).toEqual([
        expect.objectContaining({ job_state: 'Complete', job_state_description: `Replay of ${windowCopies} events completed` }),
      ]);
      const ids = copies(SHARDED_URL, job).map((p) => p.headers.get('webhook-id'));
      expect(ids).toHaveLength(windowCopies);
      expect(new Set(ids).size).toBe(windowCopies);
    } finally {
      await restore();
    }
  });

  it('holds one job per webhook across every shard: a second start while any part runs is a 409', async () => {
    const release = holdCopies(SECOND_URL);
    let job: string;
    try {
      job = await startReplay(second, secondHook);
      await vi.waitFor(() => expect(copies(SECOND_URL, job).length).toBeGreaterThan(0), { timeout: 10_000 });
      expectProblem(await call('POST', replayPath(secondHook), { token: second.bearer }), 409, 'ReplayConflictError');
    } finally {
      release();
    }
    const [status] = await finished(SECOND_URL, job);
    expect(status.job_state).toBe('Complete');
    // Over: a new job may start.
    const next = await startReplay(second, secondHook);
    expect((await finished(SECOND_URL, next))[0].job_state).toBe('Complete');
  });

  it('gives up on a shard that never answers: the job closes Incomplete without its users, and a late report changes nothing', async () => {
    let refused = 0;
    const restore = await interceptShardCalls(
      0,
      (real) => ({
        ...real,
        startReplayPart: (appId, shard, job) => {
          if (shard !== 2) return real.startReplayPart(appId, shard, job);
          refused++;
          return Promise.reject(new Error('shard 2 down'));
        },
      }),
      second,
    );
    const shard0 = appObject(env, second.id, 0);
    const stateOf = (job: string) =>
      runInDurableObject(shard0, (_o, s) => ({
        job: s.storage.sql.exec<{ state: string }>('SELECT state FROM replay_jobs WHERE job_id = ?', job).one().state,
        part2: s.storage.sql.exec<{ state: string }>('SELECT state FROM replay_parts WHERE job_id = ? AND shard = 2', job).one().state,
      }));
    try {
      const job = await startReplay(second, secondHook);
      // Asked again by the alarm, and still running: not given up before its time.
      await vi.waitFor(() => expect(refused).toBeGreaterThanOrEqual(2), { timeout: 15_000 });
      expect(await stateOf(job)).toEqual({ job: 'running', part2: 'asked' });
      // The job began longer ago than the give-up time: the next pass gives the part up.
      await runInDurableObject(shard0, (_o, s) => {
        s.storage.sql.exec('UPDATE replay_jobs SET created_at = created_at - ? WHERE job_id = ?', 11 * 60_000, job);
      });
      const [status] = await finished(SECOND_URL, job);
      expect(status.job_state).toBe('Incomplete');
      expect(status.job_state_description).toContain("1 of the app's 4 delivery shards never answered");
      expect(await stateOf(job)).toEqual({ job: 'incomplete', part2: 'unreached' });
      // No copy went out for a user of the shard that never answered; every other user's did.
      const replayed = new Set(copies(SECOND_URL, job).map((p) => body(p).for_user_id));
      expect(replayed.size).toBeGreaterThan(0);
      for (const user of replayed) expect(shardOfUser(user, SHARDS)).not.toBe(2);
      // The shard comes back and reports a part it had in fact started, and a done part reports again
      // with other counts: nothing changes, no second status.
      const parts = () =>
        runInDurableObject(shard0, (_o, s) =>
          s.storage.sql.exec('SELECT * FROM replay_parts WHERE job_id = ? ORDER BY shard', job).toArray(),
        );
      const before = await parts();
      await shard0.replayPartFinished(second.id, { jobId: job, shard: 2, total: 5, delivered: 5 });
      await shard0.replayPartFinished(second.id, { jobId: job, shard: 1, total: 99, delivered: 0 });
      expect(await parts()).toEqual(before);
      expect(await stateOf(job)).toEqual({ job: 'incomplete', part2: 'unreached' });
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(statuses(SECOND_URL, job)).toHaveLength(1);
    } finally {
      await restore();
    }
  }, 40_000);

  it('drops the copies of a user who revokes mid-job in their shard, and the one status counts them as not delivered', async () => {
    const revoked = USERS.find((user) => shardOfUser(user, SHARDS) === 2)!;
    const release = holdCopies(SECOND_URL);
    let job: string;
    let revoking: Promise<unknown>;
    try {
      job = await startReplay(second, secondHook);
      await vi.waitFor(() => expect(copies(SECOND_URL, job).length).toBeGreaterThan(0), { timeout: 10_000 });
      // The revoke returns after its fence; the copies held at the receiver go on only once shard 2 has ended the grant.
      revoking = platform('DELETE', `/internal/authorizations/${second.id}/${revoked}`);
      await vi.waitFor(
        async () => {
          const open = await runInDurableObject(appObject(env, second.id, 2), (_o, s) =>
            s.storage.sql.exec('SELECT 1 FROM authorizations WHERE user_id = ? AND ended_at IS NULL', revoked).toArray(),
          );
          expect(open).toEqual([]);
        },
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      release();
    }
    expect(((await revoking) as { status: number }).status).toBeLessThan(300);
    const statusEvents = await finished(SECOND_URL, job);
    const received = copies(SECOND_URL, job);
    // At most the copy already handed out when the user left; the user had at least three.
    expect(received.filter((p) => body(p).for_user_id === revoked).length).toBeLessThanOrEqual(1);
    expect(received.length).toBeLessThan(windowCopies);
    // The status counts what really arrived, over every shard.
    expect(statusEvents).toEqual([
      expect.objectContaining({
        job_state: 'Incomplete',
        job_state_description: `Replay finished with ${received.length} of ${windowCopies} events delivered`,
      }),
    ]);
  });

  it('refuses calls between shards meant for another app or for another shard, and writes nothing', async () => {
    const job = { jobId: '42', webhookId: secondHook, from: 0, to: Date.now() };
    const jobRows = (shard: number) =>
      runInDurableObject(appObject(env, second.id, shard), (_o, s) =>
        s.storage.sql
          .exec(
            `SELECT job_id FROM replay_jobs WHERE job_id IN ('42', '43') UNION ALL SELECT job_id FROM replay_parts WHERE job_id IN ('42', '43')`,
          )
          .toArray(),
      );
    await runInDurableObject(appObject(env, second.id, 1), async (instance: AppDeliveryObject) => {
      await expect(instance.startReplayPart(plain.id, job)).rejects.toThrow(/refused a call for app/); // another app's id
      await expect(instance.startReplay(second.id, job)).rejects.toThrow(/starts at shard 0/);
      await expect(instance.replayPartFinished(second.id, { jobId: '42', shard: 1, total: 3, delivered: 3 })).rejects.toThrow(/to shard 0/);
    });
    await runInDurableObject(appObject(env, second.id, 0), async (instance: AppDeliveryObject) => {
      await expect(instance.startReplayPart(second.id, job)).rejects.toThrow(/shard 0 holds/);
      // Counts for a job shard 0 never held change nothing.
      await instance.replayPartFinished(second.id, { jobId: '43', shard: 2, total: 3, delivered: 3 });
    });
    for (let shard = 0; shard < SHARDS; shard++) expect(await jobRows(shard)).toEqual([]);
  });

  it('makes an empty part when the webhook is gone from the shard, and answers the same when asked again', async () => {
    const job = { jobId: '44', webhookId: '999999', from: 0, to: Date.now() };
    await runInDurableObject(appObject(env, second.id, 3), async (instance: AppDeliveryObject) => {
      expect(await instance.startReplayPart(second.id, job)).toEqual({ total: 0, delivered: 0 });
      expect(await instance.startReplayPart(second.id, job)).toEqual({ total: 0, delivered: 0 });
    });
    const rows = await runInDurableObject(appObject(env, second.id, 3), (_o, s) =>
      s.storage.sql.exec<{ state: string; total: number }>(`SELECT state, total FROM replay_jobs WHERE job_id = '44'`).toArray(),
    );
    expect(rows).toEqual([{ state: 'complete', total: 0 }]);
  });
});
