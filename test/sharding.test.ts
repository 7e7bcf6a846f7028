import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { shardOfUser } from '../src/domain/shards';
import { ingest, testUser as u } from './support/activities';
import { activeApp, registerWebhook, subscribe, type TestApp } from './support/apps';
import { expectProblem, platform } from './support/http';
import { installReceivers, type Receivers, receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';

/**
 * An app sharded over several objects by user (docs/scaling.md) must deliver exactly what the same
 * app unsharded delivers: the same deliveries, in the same order per user, signed with one set of
 * secrets, on one ledger that pages newest first over every shard, under one audit.
 */
const SHARDS = 4;
const USERS = Array.from({ length: 12 }, (_, i) => String(i + 1));
const SCOPES = ['tweet.read', 'dm.read', 'follows.read'];

let receivers: Receivers;
let plain: TestApp;
let sharded: TestApp;
let plainHook: Awaited<ReturnType<typeof registerWebhook>>;
let shardedHook: Awaited<ReturnType<typeof registerWebhook>>;
const PLAIN_URL = receiverUrl('/plain');
const SHARDED_URL = receiverUrl('/sharded');

/** Mixed traffic among the users and one nobody subscribed ('99'), posted in order, batch by batch. */
function traffic(round: number): Record<string, unknown>[] {
  const list: Record<string, unknown>[] = [];
  for (let i = 0; i < 12; i++) {
    const from = USERS[(i * 5 + round) % USERS.length];
    const to = i % 4 === 3 ? '99' : USERS[(i * 7 + round + 1) % USERS.length];
    const id = `sh-${round}-${i}`;
    if (i % 3 === 0)
      list.push({ id, type: 'direct_message', message: { id: `${round}${i}`, sender: u(from), recipient: u(to), text: id } });
    else if (i % 3 === 1) list.push({ id, type: 'tweet_create', tweet: { id: `${round}${i}`, text: id, author: u(from), mentions: [to] } });
    else list.push({ id, type: 'follow', source: u(from), target: u(to) });
  }
  return list;
}

/** Each user's deliveries, in the order the receiver got them (bodies: the payload, nothing app-specific). */
function perUser(url: string): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const post of receivers.posts(url)) {
    const body = JSON.parse(post.body);
    byUser.set(body.for_user_id, [...(byUser.get(body.for_user_id) ?? []), post.body]);
  }
  return byUser;
}

async function allLedger(appId: string, pageSize: number) {
  const entries: { delivery_id: string; for_user_id: string | null; event_type: string; outcome: string }[] = [];
  const tokens: number[] = [];
  for (let token: string | undefined; ; ) {
    const res = await platform(
      'GET',
      `/internal/apps/${appId}/deliveries?max_results=${pageSize}${token ? `&pagination_token=${token}` : ''}`,
    );
    expect(res.status).toBe(200);
    entries.push(...res.body.data);
    token = res.body.meta.next_token;
    if (!token) break;
    tokens.push(Number(token));
  }
  return { entries, tokens };
}

beforeAll(async () => {
  receivers = installReceivers();
  plain = await activeApp({ name: 'Plain' });
  sharded = await activeApp({ name: 'Sharded', delivery_shards: SHARDS });
  receivers.set(PLAIN_URL, plain.consumerSecret);
  receivers.set(SHARDED_URL, sharded.consumerSecret);
  plainHook = await registerWebhook(plain, PLAIN_URL);
  shardedHook = await registerWebhook(sharded, SHARDED_URL);
  for (const user of USERS) {
    await subscribe(plain, plainHook.id, user, SCOPES);
    await subscribe(sharded, shardedHook.id, user, SCOPES);
  }
  for (let round = 0; round < 4; round++) await ingest(...traffic(round));
  // Settled: both receivers' counts equal and unchanged for a second (equal counts alone can be a
  // moment mid-flight), and every attempt's outcome reported on both ledgers.
  let last = -1;
  await vi.waitFor(
    async () => {
      const plainCount = receivers.posts(PLAIN_URL).length;
      expect(plainCount).toBeGreaterThan(0);
      expect(receivers.posts(SHARDED_URL).length).toBe(plainCount);
      const previous = last;
      last = plainCount;
      expect(plainCount).toBe(previous);
      for (const app of [plain, sharded]) {
        expect((await allLedger(app.id, 100)).entries.filter((e) => e.outcome === 'unknown')).toEqual([]);
      }
    },
    { timeout: 30_000, interval: 1_000 },
  );
}, 60_000);

describe('an app sharded over objects by user', () => {
  it('spreads the users over every shard (the precondition of everything below)', () => {
    const used = new Set(USERS.map((user) => shardOfUser(user, SHARDS)));
    expect(used.size).toBe(SHARDS);
    // The shard function is part of the stored state: it must never change for an existing app. These
    // are the values FNV-1a gives; a different hash (or modulo) changes them.
    expect(['1', '2', '3', '12', '1000000'].map((user) => shardOfUser(user, 4))).toEqual([0, 1, 2, 2, 0]);
    expect(['1', '2', '3', '12', '1000000'].map((user) => shardOfUser(user, 16))).toEqual([12, 5, 2, 10, 12]);
    // And it spreads a platform's ids evenly.
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) counts[shardOfUser(String(1_000_000 + i * 7), 4)]++;
    for (const n of counts) expect(n).toBeGreaterThan(2_250);
    expect(shardOfUser('1', 1)).toBe(0);
  });

  it('delivers exactly what the unsharded app delivers, in the same order per user', async () => {
    const expected = perUser(PLAIN_URL);
    const got = perUser(SHARDED_URL);
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [user, bodies] of expected) expect(got.get(user), `user ${user}`).toEqual(bodies);
    expect(got.has('99')).toBe(false);
  });

  it('signs every delivery, from whichever shard, with the one signing secret the developer was given', async () => {
    const webhooks = [
      { name: 'plain', consumerSecret: plain.consumerSecret, signingSecret: plainHook.signing_secret },
      { name: 'sharded', consumerSecret: sharded.consumerSecret, signingSecret: shardedHook.signing_secret },
    ];
    for (const post of receivers.posts(SHARDED_URL)) expect(await signerOf(post, webhooks)).toBe('sharded');
  });

  it('keeps one ledger: every shard’s entries, newest first, paged with one cursor', async () => {
    const plainLedger = await allLedger(plain.id, 7);
    const shardedLedger = await allLedger(sharded.id, 7);
    const summary = (entries: typeof plainLedger.entries) => entries.map((e) => `${e.for_user_id}|${e.event_type}|${e.outcome}`).sort();
    expect(summary(shardedLedger.entries)).toEqual(summary(plainLedger.entries));
    expect(new Set(shardedLedger.entries.map((e) => e.delivery_id)).size).toBe(shardedLedger.entries.length);
    // Cursors only go down: no entry is shown twice or skipped between pages.
    for (let i = 1; i < shardedLedger.tokens.length; i++) expect(shardedLedger.tokens[i]).toBeLessThan(shardedLedger.tokens[i - 1]);
  });

  it('answers the access report and the audit over every shard', async () => {
    for (const user of ['1', '5']) {
      const res = await platform('GET', `/internal/users/${user}/access`);
      const received = (appId: string) =>
        res.body.data.apps
          .find((a: { app_id: string }) => a.app_id === appId)
          .received.map((r: { event_type: string; delivered: number }) => `${r.event_type}:${r.delivered}`);
      expect(received(sharded.id)).toEqual(received(plain.id));
    }
    const audit = await platform('GET', `/internal/audit/verify?app_id=${sharded.id}`);
    expect(audit.status).toBe(200);
    expect(audit.body.data.checked).toBe(receivers.posts(SHARDED_URL).length);
    expect(audit.body.data.violations).toEqual([]);
  });

  it('is in step with D1 in every shard', async () => {
    const res = await platform('GET', `/internal/apps/${sharded.id}/drift`);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ in_step: true, differences: [] });
  });

  it('names the shard that drifted from D1, and reconcile brings that shard back', async () => {
    const user = USERS.find((x) => shardOfUser(x, SHARDS) === 2)!;
    // The shard loses the user's subscription (as if a write to it had been lost).
    await runInDurableObject(appObject(env, sharded.id, 2), (_o, state) => {
      state.storage.sql.exec('DELETE FROM subscriptions WHERE user_id = ?', user);
    });
    const drift = await platform('GET', `/internal/apps/${sharded.id}/drift`);
    expect(drift.body.data.in_step).toBe(false);
    expect(drift.body.data.differences).toEqual([
      expect.objectContaining({ kind: 'object_behind', table: 'subscriptions', user_id: user, shard: 2 }),
    ]);
    expect((await platform('POST', `/internal/apps/${sharded.id}/reconcile`)).status).toBe(200);
    expect((await platform('GET', `/internal/apps/${sharded.id}/drift`)).body.data).toMatchObject({ in_step: true, differences: [] });
  });

  it('refuses, in the object, a subscription routed to a shard the user does not belong to', async () => {
    const user = USERS.find((x) => shardOfUser(x, SHARDS) === 2)!;
    // Called on the instance (not over RPC) so the refusal surfaces here as a rejected promise.
    await runInDurableObject(appObject(env, sharded.id, 1), async (wrong, state) => {
      await expect(
        wrong.addSubscription(sharded.id, { id: '777', webhookId: shardedHook.id, userId: user, authorizationId: '1', at: Date.now() }),
      ).rejects.toThrow(/belongs to shard 2 of 4/);
      await expect(
        (async () => wrong.grantAuthorization(sharded.id, { authorizationId: '778', userId: user, scope: 'tweet.read', at: Date.now() }))(),
      ).rejects.toThrow(/belongs to shard 2/);
      expect(state.storage.sql.exec('SELECT count(*) AS n FROM subscriptions WHERE user_id = ?', user).one().n).toBe(0);
    });
  });

  it('hands out nothing for a queue message that names another shard', async () => {
    const object = appObject(env, sharded.id, 1);
    const claimed = await object.claim(
      sharded.id,
      [{ app: sharded.id, shard: 2, seq: 1, deliveryId: 'x', attempt: 1, release: 1, webhook: shardedHook.id }],
      5,
    );
    expect(claimed.handOuts).toEqual([]);
  });

  it('takes a withdrawal in the user’s shard only: a revoked user gets nothing more, the others go on', async () => {
    const revoked = '5';
    const other = USERS.find((x) => shardOfUser(x, SHARDS) !== shardOfUser(revoked, SHARDS))!;
    expect((await platform('DELETE', `/internal/authorizations/${sharded.id}/${revoked}`)).status).toBeLessThan(300);
    const before = receivers.posts(SHARDED_URL).length;
    await ingest(
      { id: 'sh-after-1', type: 'tweet_create', tweet: { id: '90001', text: 'x', author: u(revoked) } },
      { id: 'sh-after-2', type: 'tweet_create', tweet: { id: '90002', text: 'y', author: u(other) } },
    );
    await vi.waitFor(
      () =>
        expect(
          perUser(SHARDED_URL)
            .get(other)
            ?.some((b) => b.includes('90002')),
        ).toBe(true),
      { timeout: 10_000 },
    );
    const after = receivers.posts(SHARDED_URL).slice(before);
    expect(after.some((p) => p.body.includes('90001'))).toBe(false);
  });

  it("finds a delivery planted in any one shard's ledger", async () => {
    const now = Date.now();
    const shard = 3;
    await runInDurableObject(appObject(env, sharded.id, shard), (_o, state) => {
      state.storage.sql.exec(
        `INSERT INTO ledger (id, seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, status_code, error, latency_ms, outcome)
         VALUES (?, 0, 'msg_planted_in_shard', 'event', NULL, ?, 'e-planted', 'direct_message', ?, '4242', 1, ?, 200, NULL, 5, 'delivered')`,
        (now - 5) * 64 * SHARDS + shard,
        now - 10,
        shardedHook.id,
        now - 5,
      );
    });
    const res = await platform('GET', `/internal/audit/verify?app_id=${sharded.id}`);
    expect(res.body.data.violations).toEqual([
      expect.objectContaining({ app_id: sharded.id, delivery_id: 'msg_planted_in_shard', for_user_id: '4242' }),
    ]);
  });
});

describe('creating a sharded app', () => {
  it('takes 1 to 16 shards and says so; anything else is a 400 that creates nothing', async () => {
    const created = await platform('POST', '/internal/apps', { name: 'eight', delivery_shards: 8 });
    expect(created.status).toBe(201);
    expect(created.body.data.delivery_shards).toBe(8);
    expect((await platform('GET', `/internal/apps/${created.body.data.id}`)).body.data.delivery_shards).toBe(8);
    expect((await platform('POST', '/internal/apps', { name: 'plain' })).body.data.delivery_shards).toBe(1);
    for (const bad of [0, 17, 2.5, '4']) {
      const res = await platform('POST', '/internal/apps', { name: `bad ${bad}`, delivery_shards: bad });
      expectProblem(res, 400);
    }
  });
});
