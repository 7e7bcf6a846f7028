import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-delivery-object';
import {
  appWithWebhook,
  call,
  ingest,
  platform,
  type Receivers,
  type registerWebhook,
  sleep,
  subscribe,
  type TestApp,
  testUser as u,
} from './helpers';

/**
 * docs/delivery.md, "Hand-out and withdrawal protocol": once an unsubscribe, revoke, webhook delete or suspension returns, nothing
 * more for that scope is sent, including events already queued or waiting for a retry.
 */
let receivers: Receivers;
let app: TestApp;
let hook: Awaited<ReturnType<typeof registerWebhook>>;
let url: string;
let port = 9800;

const userPosts = (userId: string) => receivers.posts(url).filter((p) => JSON.parse(p.body).for_user_id === userId);
const ledger = () =>
  runInDurableObject(appObject(env, app.id), (_o, s) =>
    s.storage.sql
      .exec<{ for_user_id: string; outcome: string; error: string | null }>('SELECT for_user_id, outcome, error FROM ledger ORDER BY id')
      .toArray(),
  );
const outboxSize = () =>
  runInDurableObject(appObject(env, app.id), (_o, s) => s.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n);

const WITHDRAWALS: Record<string, () => Promise<unknown>> = {
  unsubscribe: () => call('DELETE', `/2/account_activity/webhooks/${hook.id}/subscriptions/1/all`, { token: app.bearer }),
  revoke: () => platform('DELETE', `/internal/authorizations/${app.id}/1`),
  'webhook delete': () => call('DELETE', `/2/webhooks/${hook.id}`, { token: app.bearer }),
  suspension: () => platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'test' }),
};

beforeEach(async () => {
  ({ receivers, app, hook, url } = await appWithWebhook(`http://127.0.0.1:${port++}/hook`));
  await subscribe(app, hook.id, '1');
});

describe.each(Object.keys(WITHDRAWALS))('%s', (name) => {
  it('stops events already on the queue', async () => {
    await ingest(
      { id: `q1-${port}`, type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } },
      { id: `q2-${port}`, type: 'tweet_create', tweet: { id: '2', text: 'b', author: u('1') } },
    );
    // Released to the queue at ingest; the local queue hands out batches after up to 1 s.
    await WITHDRAWALS[name]();
    await sleep(2000);
    expect(userPosts('1')).toHaveLength(0);
    expect(await outboxSize()).toBe(0);
    const dropped = (await ledger()).filter((r) => r.outcome === 'dropped' && r.for_user_id === '1');
    expect(dropped).toHaveLength(2);
  });

  it('stops a delivery waiting for its retry', async () => {
    receivers.onPost(url, () => new Response(null, { status: 500 }));
    await ingest({ id: `r1-${port}`, type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } });
    await vi.waitFor(() => expect(userPosts('1')).toHaveLength(1), { timeout: 5000 });
    await WITHDRAWALS[name]();
    await sleep(2500); // the test retry schedule is 1 s
    expect(userPosts('1')).toHaveLength(1);
    // (a revoke also sends the app a user_event, in a lane of its own: not this user's)
    expect((await ledger()).filter((r) => r.for_user_id === '1').map((r) => r.outcome)).toEqual(['retrying', 'dropped']);
  });
});

describe('withdrawal is scoped', () => {
  it("unsubscribing one user leaves another user's deliveries alone", async () => {
    await subscribe(app, hook.id, '2');
    await ingest(
      { id: `s1-${port}`, type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } },
      { id: `s2-${port}`, type: 'tweet_create', tweet: { id: '2', text: 'b', author: u('2') } },
    );
    await WITHDRAWALS.unsubscribe();
    await vi.waitFor(() => expect(userPosts('2')).toHaveLength(1), { timeout: 5000 });
    await sleep(1000);
    expect(userPosts('1')).toHaveLength(0);
  });

  it('a narrower re-grant withdraws the event types it no longer covers', async () => {
    await ingest(
      { id: `n1-${port}`, type: 'direct_message', message: { id: '9', sender: u('1'), recipient: u('5'), text: 'private' } },
      { id: `n2-${port}`, type: 'tweet_create', tweet: { id: '2', text: 'public', author: u('1') } },
    );
    await platform('POST', '/internal/authorizations', { app_id: app.id, user_id: '1', scopes: ['tweet.read'] });
    await vi.waitFor(() => expect(userPosts('1')).toHaveLength(1), { timeout: 5000 });
    await sleep(1000);
    expect(Object.keys(JSON.parse(userPosts('1')[0].body))).toContain('tweet_create_events');
    expect(userPosts('1')).toHaveLength(1);
  });
});
