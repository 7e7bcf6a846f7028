import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { holdDeliveries } from './support/app-object';
import { subscribe } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, platform } from './support/http';
import { sleep } from './support/time';

/**
 * docs/delivery.md, "Hand-out and withdrawal protocol": once an unsubscribe, revoke, webhook delete or suspension returns, nothing
 * more for that scope is sent, including events already queued or waiting for a retry.
 */
const fx = appWithWebhookEachTest({ subscribers: ['1'] });

const userPosts = (userId: string) => fx.receivers.posts(fx.url).filter((p) => JSON.parse(p.body).for_user_id === userId);
const ledger = () =>
  runInDurableObject(appObject(env, fx.app.id), (_o, s) =>
    s.storage.sql
      .exec<{ for_user_id: string; outcome: string; error: string | null }>('SELECT for_user_id, outcome, error FROM ledger ORDER BY id')
      .toArray(),
  );
const outboxSize = () =>
  runInDurableObject(appObject(env, fx.app.id), (_o, s) => s.storage.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n);

const WITHDRAWALS: Record<string, () => Promise<unknown>> = {
  unsubscribe: () => call('DELETE', `/2/account_activity/webhooks/${fx.hook.id}/subscriptions/1/all`, { token: fx.app.bearer }),
  revoke: () => platform('DELETE', `/internal/authorizations/${fx.app.id}/1`),
  'webhook delete': () => call('DELETE', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer }),
  suspension: () => platform('POST', `/internal/apps/${fx.app.id}/suspend`, { reason: 'test' }),
};

describe.each(Object.keys(WITHDRAWALS))('%s', (name) => {
  it('stops events already on the queue', async () => {
    // Released to the queue at ingest, and held there (unclaimed) until the withdrawal has returned.
    const release = holdDeliveries();
    await ingest(
      { id: uniqueId('q1'), type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } },
      { id: uniqueId('q2'), type: 'tweet_create', tweet: { id: '2', text: 'b', author: u('1') } },
    );
    await WITHDRAWALS[name]();
    release();
    await sleep(2000);
    expect(userPosts('1')).toHaveLength(0);
    expect(await outboxSize()).toBe(0);
    const dropped = (await ledger()).filter((r) => r.outcome === 'dropped' && r.for_user_id === '1');
    expect(dropped).toHaveLength(2);
  });

  it('stops a delivery waiting for its retry', async () => {
    fx.receivers.onPost(fx.url, () => new Response(null, { status: 500 }));
    await ingest({ id: uniqueId('r1'), type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } });
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
    await subscribe(fx.app, fx.hook.id, '2');
    const release = holdDeliveries();
    await ingest(
      { id: uniqueId('s1'), type: 'tweet_create', tweet: { id: '1', text: 'a', author: u('1') } },
      { id: uniqueId('s2'), type: 'tweet_create', tweet: { id: '2', text: 'b', author: u('2') } },
    );
    await WITHDRAWALS.unsubscribe();
    release();
    await vi.waitFor(() => expect(userPosts('2')).toHaveLength(1), { timeout: 5000 });
    await sleep(1000);
    expect(userPosts('1')).toHaveLength(0);
  });

  it('a narrower re-grant withdraws the event types it no longer covers', async () => {
    const release = holdDeliveries();
    await ingest(
      { id: uniqueId('n1'), type: 'direct_message', message: { id: '9', sender: u('1'), recipient: u('5'), text: 'private' } },
      { id: uniqueId('n2'), type: 'tweet_create', tweet: { id: '2', text: 'public', author: u('1') } },
    );
    await platform('POST', '/internal/authorizations', { app_id: fx.app.id, user_id: '1', scopes: ['tweet.read'] });
    release();
    await vi.waitFor(() => expect(userPosts('1')).toHaveLength(1), { timeout: 5000 });
    await sleep(1000);
    expect(Object.keys(JSON.parse(userPosts('1')[0].body))).toContain('tweet_create_events');
    expect(userPosts('1')).toHaveLength(1);
  });
});
