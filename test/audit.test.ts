import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u } from './support/activities';
import { activeApp, registerWebhook, subscribe, type TestApp } from './support/apps';
import { call, expectProblem, platform } from './support/http';
import { installReceivers, type Receivers, receiverUrl } from './support/receivers';

/** One mixed run shared by the tests below: two apps, several users, revoke and unsubscribe. */
let receivers: Receivers;
let a: TestApp;
let b: TestApp;
let hookA: Awaited<ReturnType<typeof registerWebhook>>;
let hookB: Awaited<ReturnType<typeof registerWebhook>>;
const URL_A = receiverUrl('/a');
const URL_B = receiverUrl('/b');

beforeAll(async () => {
  receivers = installReceivers();
  a = await activeApp({ name: 'Audit A' });
  b = await activeApp({ name: 'Audit B' });
  receivers.set(URL_A, a.consumerSecret);
  receivers.set(URL_B, b.consumerSecret);
  hookA = await registerWebhook(a, URL_A);
  hookB = await registerWebhook(b, URL_B);
  await subscribe(a, hookA.id, '1', ['tweet.read', 'dm.read']);
  await subscribe(a, hookA.id, '2', ['tweet.read']);
  await subscribe(b, hookB.id, '1', ['tweet.read', 'follows.read']);
  await ingest(
    { id: 'au-1', type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } },
    { id: 'au-2', type: 'direct_message', message: { id: '2', sender: u('1'), recipient: u('2'), text: 'dm' } },
    { id: 'au-3', type: 'follow', source: u('3'), target: u('1') },
    { id: 'au-4', type: 'tweet_create', tweet: { id: '4', text: 'b', author: u('2') } },
  );
  // A: 1 tweet + 1 DM for user 1, 1 tweet for user 2; B: 1 tweet + 1 follow for user 1.
  await vi.waitFor(() => expect(receivers.posts(URL_A).length + receivers.posts(URL_B).length).toBe(5), { timeout: 10_000 });
  await platform('DELETE', `/internal/authorizations/${a.id}/2`);
  await call('DELETE', `/2/account_activity/webhooks/${hookB.id}/subscriptions/1/all`, { token: b.bearer });
  await vi.waitFor(() => expect(receivers.posts(URL_A).length).toBe(4), { timeout: 10_000 }); // + the revoke notice
});

describe('GET /internal/audit/verify', () => {
  it('checks every delivery and finds no violation after a mixed run', async () => {
    const res = await platform('GET', '/internal/audit/verify');
    expect(res.status).toBe(200);
    expect(res.body.data.checked).toBe(6);
    expect(res.body.data.violations).toEqual([]);
  });

  it("names a delivery the history does not entitle, planted in one object's ledger", async () => {
    // Planted a moment ago, after the app was created (its setup can take well under a second), so the
    // only thing wrong with it is the missing subscription.
    const now = Date.now();
    await runInDurableObject(appObject(env, b.id), (_o, state) => {
      state.storage.sql.exec(
        `INSERT INTO ledger (seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, status_code, error, latency_ms, outcome)
         VALUES (0, 'msg_planted', 'event', NULL, ?, 'e-planted', 'direct_message', ?, '2', 1, ?, 200, NULL, 5, 'delivered')`,
        now - 10,
        hookB.id,
        now - 5,
      );
    });
    const res = await platform('GET', '/internal/audit/verify');
    expect(res.body.data.checked).toBe(7);
    expect(res.body.data.violations).toEqual([
      expect.objectContaining({
        app_id: b.id,
        app_name: 'Audit B',
        for_user_id: '2',
        event_type: 'direct_message',
        delivery_id: 'msg_planted',
        webhook_id: hookB.id,
        reason: expect.stringContaining('no subscription'),
      }),
    ]);
  });

  it('takes a window and rejects a backwards one', async () => {
    const future = Date.now() + 3_600_000;
    const res = await platform('GET', `/internal/audit/verify?from=${future}&to=${future + 1000}`);
    expect(res.body.data.checked).toBe(0);
    expectProblem(await platform('GET', `/internal/audit/verify?from=${future}&to=${future - 1}`), 400);
    expectProblem(await platform('GET', '/internal/audit/verify?from=yesterday'), 400);
  });

  it('is for the platform only', async () => {
    expectProblem(await call('GET', '/internal/audit/verify', { token: a.bearer }), 401);
  });
});

describe('GET /internal/users/:user_id/access', () => {
  it('lists exactly the apps and event types delivered for the user', async () => {
    const res = await platform('GET', '/internal/users/1/access');
    const apps: {
      app_id: string;
      authorizations: unknown[];
      subscriptions: unknown[];
      received: { event_type: string; delivered: number; first_at: string; last_at: string }[];
    }[] = res.body.data.apps;
    expect(apps.map((x) => x.app_id).sort()).toEqual([a.id, b.id].sort());
    const ofA = apps.find((x) => x.app_id === a.id)!;
    expect(ofA.received.map((d) => [d.event_type, d.delivered])).toEqual([
      ['direct_message', 1],
      ['tweet_create', 1],
    ]);
    expect(ofA.authorizations).toEqual([expect.objectContaining({ scope: 'dm.read tweet.read', ended_at: null })]);
    expect(ofA.subscriptions).toEqual([expect.objectContaining({ webhook_id: hookA.id, ended_at: null })]);
    const ofB = apps.find((x) => x.app_id === b.id)!;
    expect(ofB.received.map((d) => [d.event_type, d.delivered])).toEqual([
      ['follow', 1],
      ['tweet_create', 1],
    ]);
    expect(ofB.subscriptions[0]).toMatchObject({ end_reason: 'unsubscribed' });
    for (const d of [...ofA.received, ...ofB.received])
      expect(new Date(d.first_at).getTime()).toBeLessThanOrEqual(new Date(d.last_at).getTime());
  });

  it('shows a revoked authorization with its end, and nothing for a stranger', async () => {
    const res = await platform('GET', '/internal/users/2/access');
    expect(res.body.data.apps).toHaveLength(1);
    expect(res.body.data.apps[0].authorizations[0]).toMatchObject({ end_reason: 'revoked' });
    expect(res.body.data.apps[0].received).toEqual([
      {
        event_type: 'tweet_create',
        delivered: 1,
        answered_non_2xx: 0,
        outcome_unknown: 0,
        streamed: 0,
        first_at: expect.any(String),
        last_at: expect.any(String),
      },
    ]);
    expect((await platform('GET', '/internal/users/424242/access')).body.data.apps).toEqual([]);
  });
});

describe('delivery ledgers', () => {
  it("the developer's log shows this webhook's attempts, filters and pages them", async () => {
    const path = `/2/account_activity/webhooks/${hookA.id}/deliveries`;
    const all = await call('GET', path, { token: a.bearer });
    expect(all.status).toBe(200);
    expect(all.body.data.length).toBeGreaterThanOrEqual(4);
    const entry = all.body.data.find((e: { event_type: string }) => e.event_type === 'direct_message');
    expect(entry).toMatchObject({ for_user_id: '1', attempt: 1, status_code: 200, outcome: 'delivered', next: { state: 'delivered' } });
    expect(entry.delivery_id).toMatch(/^msg_/);
    const onlyUser2 = await call('GET', `${path}?user_id=2`, { token: a.bearer });
    expect(onlyUser2.body.data.map((e: { for_user_id: string }) => e.for_user_id)).toEqual(['2']);
    const page1 = await call('GET', `${path}?max_results=2`, { token: a.bearer });
    expect(page1.body.data).toHaveLength(2);
    const page2 = await call('GET', `${path}?max_results=2&pagination_token=${page1.body.meta.next_token}`, { token: a.bearer });
    expect(page2.body.data[0].attempted_at <= page1.body.data[1].attempted_at).toBe(true);
    expect(
      new Set([...page1.body.data, ...page2.body.data].map((e: { delivery_id: string; attempt: number }) => e.delivery_id + e.attempt))
        .size,
    ).toBe(page1.body.data.length + page2.body.data.length);
    expectProblem(await call('GET', `${path}?status=lost`, { token: a.bearer }), 400, 'QueryParamInvalid');
  });

  it("another app cannot read this webhook's log", async () => {
    expectProblem(await call('GET', `/2/account_activity/webhooks/${hookA.id}/deliveries`, { token: b.bearer }), 404, 'WebhookIdInvalid');
  });

  it("the operator's ledger of an app covers all its webhooks", async () => {
    const res = await platform('GET', `/internal/apps/${b.id}/deliveries?user_id=1`);
    expect(res.body.data.map((e: { event_type: string }) => e.event_type).sort()).toEqual(['follow', 'tweet_create']);
    expectProblem(await platform('GET', '/internal/apps/999999/deliveries'), 404);
  });
});
