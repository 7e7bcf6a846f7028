import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u } from './support/activities';
import { registerWebhook, subscribe } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { call, platform } from './support/http';
import { receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';
import { sleep } from './support/time';

const fx = appWithWebhookEachTest();

const tweet = (id: string, author: string, extra: Record<string, unknown> = {}) => ({
  id,
  type: 'tweet_create',
  tweet: { id: String(100000 + Number(id.replace(/\D/g, '') || 0)), text: id, author: u(author), ...extra },
});
const bodies = () => fx.receivers.posts(fx.url).map((p) => JSON.parse(p.body));
const texts = (userId?: string) =>
  bodies()
    .filter((b) => !userId || b.for_user_id === userId)
    .map((b) => b.tweet_create_events?.[0]?.text);
const ledger = (sql: string, ...args: unknown[]) =>
  runInDurableObject(appObject(env, fx.app.id), (_o, s) =>
    s.storage.sql.exec<Record<string, string | number | null>>(sql, ...args).toArray(),
  );
const wait = (fn: () => void, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });

describe('signed deliveries', () => {
  it('carry both signatures, JSON content type, a user agent and a stable webhook-id', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await ingest(tweet('t1', '1'));
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    const [post] = fx.receivers.posts(fx.url);
    expect(post.headers.get('content-type')).toBe('application/json');
    expect(post.headers.get('user-agent')).toContain('account-activity-edge');
    expect(await signerOf(post, [{ name: 'me', consumerSecret: fx.app.consumerSecret, signingSecret: fx.hook.signing_secret }])).toBe('me');
    expect(Math.abs(Number(post.headers.get('webhook-timestamp')) - Date.now() / 1000)).toBeLessThan(30);
  });

  it('deliver only the event types the user granted scopes for', async () => {
    await subscribe(fx.app, fx.hook.id, '1', ['tweet.read']);
    await ingest(
      { id: 'dm', type: 'direct_message', message: { id: '5', sender: u('1'), recipient: u('2'), text: 'private' } },
      { id: 'fol', type: 'follow', source: u('2'), target: u('1') },
      tweet('t2', '1'),
    );
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    await sleep(1500);
    expect(bodies().map((b) => Object.keys(b).filter((k) => k !== 'for_user_id'))).toEqual([['tweet_create_events']]);
  });

  it('a protected tweet reaches its author only', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await subscribe(fx.app, fx.hook.id, '2');
    await ingest(tweet('p1', '1', { author: u('1', { protected: true }), mentions: ['2'], in_reply_to_user_id: '2' }));
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    await sleep(1500);
    expect(bodies().map((b) => b.for_user_id)).toEqual(['1']);
  });

  it('one POST per (webhook, user): a DM between two subscribed users goes twice, once for each', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await subscribe(fx.app, fx.hook.id, '2');
    await ingest({ id: 'dm2', type: 'direct_message', message: { id: '6', sender: u('1'), recipient: u('2'), text: 'hi' } });
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(2));
    expect(
      bodies()
        .map((b) => b.for_user_id)
        .sort(),
    ).toEqual(['1', '2']);
    const ids = fx.receivers.posts(fx.url).map((p) => p.headers.get('webhook-id'));
    expect(new Set(ids).size).toBe(2);
  });
});

describe('order', () => {
  it('keeps each lane strictly FIFO under concurrent ingest, with a failing head', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    await subscribe(fx.app, fx.hook.id, '2');
    let failedOnce = false;
    fx.receivers.onPost(fx.url, (post) => {
      const body = JSON.parse(post.body);
      // User 1's first event fails once; user 2's lane must not wait for it.
      if (body.for_user_id === '1' && !failedOnce) {
        failedOnce = true;
        return new Response('busy', { status: 500 });
      }
      return new Response(null, { status: 204 });
    });
    await ingest(tweet('a0', '1'));
    await Promise.all(Array.from({ length: 8 }, (_, i) => ingest(tweet(`a${i + 1}`, '1'), tweet(`b${i}`, '2'))));

    await wait(() => expect(texts('2')).toHaveLength(8));
    await wait(() => expect(texts('1').length).toBe(10)); // 9 events + the one retry
    // Lane order is the order the app's object accepted the events in.
    const order = (await ledger(`SELECT m.payload FROM messages m WHERE m.user_id = '1' ORDER BY m.seq`)).map(
      (r) => JSON.parse(String(r.payload)).tweet_create_events[0].text,
    );
    const received = texts('1');
    expect(received[0]).toBe(order[0]);
    expect(received[1]).toBe(order[0]); // the retry comes before anything behind it
    expect(received.slice(1)).toEqual(order);
  });
});

describe('retries', () => {
  it('retries a failing receiver on the schedule, then records the delivery failed', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    fx.receivers.onPost(fx.url, () => new Response('down', { status: 502 }));
    await ingest(tweet('r1', '1'));
    // The test schedule is 1 s, 1 s, 1 s: four attempts in all.
    await wait(async () => {
      const rows = await ledger(`SELECT attempt, status_code, outcome FROM ledger ORDER BY id`);
      expect(rows).toEqual([
        { attempt: 1, status_code: 502, outcome: 'retrying' },
        { attempt: 2, status_code: 502, outcome: 'retrying' },
        { attempt: 3, status_code: 502, outcome: 'retrying' },
        { attempt: 4, status_code: 502, outcome: 'failed' },
      ]);
    }, 20_000);
    expect(fx.receivers.posts(fx.url)).toHaveLength(4);
    const ids = new Set(fx.receivers.posts(fx.url).map((p) => p.headers.get('webhook-id')));
    expect(ids.size).toBe(1);
    const [message] = await ledger(`SELECT state, attempts FROM messages`);
    expect(message).toEqual({ state: 'failed', attempts: 4 });
  });

  it('recovers when the receiver comes back, and records every attempt', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    let calls = 0;
    fx.receivers.onPost(fx.url, () => (++calls === 1 ? new Response(null, { status: 503 }) : new Response(null, { status: 200 })));
    await ingest(tweet('r2', '1'));
    await wait(async () =>
      expect(await ledger(`SELECT outcome FROM ledger ORDER BY id`)).toEqual([{ outcome: 'retrying' }, { outcome: 'delivered' }]),
    );
  });

  it('treats timeouts, refused connections and redirects as failed attempts', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    let calls = 0;
    fx.receivers.onPost(fx.url, () => {
      calls++;
      if (calls === 1) throw new DOMException('timed out', 'TimeoutError');
      if (calls === 2) throw new TypeError('connection refused');
      if (calls === 3) return new Response(null, { status: 301, headers: { location: 'http://evil.example/' } });
      return new Response(null, { status: 200 });
    });
    await ingest(tweet('r3', '1'));
    // The fourth attempt is on the ledger (outcome unknown) before its POST; wait for its report too.
    await wait(async () => expect(await ledger(`SELECT outcome FROM ledger ORDER BY id`)).toHaveLength(4), 20_000);
    await wait(async () => expect((await ledger(`SELECT outcome FROM ledger ORDER BY id`))[3]).toEqual({ outcome: 'delivered' }));
    const rows = await ledger(`SELECT status_code, error, outcome FROM ledger ORDER BY id`);
    expect(rows[0]).toMatchObject({ status_code: null, outcome: 'retrying' });
    expect(rows[0].error).toMatch(/^timeout/);
    expect(rows[1].error).toMatch(/^network/);
    expect(rows[2]).toMatchObject({ status_code: 301, outcome: 'retrying' });
    expect(rows[3]).toMatchObject({ status_code: 200, outcome: 'delivered' });
    expect(fx.receivers.seen.some((r) => r.url.host === 'evil.example')).toBe(false);
  });

  it('honours retry-after on 429', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    fx.receivers.onPost(fx.url, () => new Response(null, { status: 429, headers: { 'retry-after': '120' } }));
    await ingest(tweet('r4', '1'));
    await wait(async () => expect(await ledger(`SELECT outcome FROM ledger`)).toHaveLength(1));
    const [row] = await ledger(`SELECT not_before, attempt, state FROM outbox`);
    expect(row.attempt).toBe(2);
    expect(row.state).toBe('waiting');
    expect(Number(row.not_before) - Date.now()).toBeGreaterThan(100_000);
    expect(await runInDurableObject(appObject(env, fx.app.id), (_o, s) => s.storage.getAlarm())).toBeGreaterThan(Date.now() + 100_000);
  });
});

describe('invalid webhooks hold, 410 disables', () => {
  it('holds events while the webhook is invalid and releases them in order when a CRC passes', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    fx.receivers.behave(fx.url, 'wrong-token');
    await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer });
    await ingest(tweet('h1', '1'), tweet('h2', '1'), tweet('h3', '1'));
    await sleep(1500);
    expect(fx.receivers.posts(fx.url)).toHaveLength(0);
    fx.receivers.behave(fx.url, 'ok');
    expect((await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer })).status).toBe(200);
    await wait(() => expect(texts()).toEqual(['h1', 'h2', 'h3']));
  });

  it('410 Gone makes the webhook invalid in D1 and holds the rest', async () => {
    await subscribe(fx.app, fx.hook.id, '1');
    fx.receivers.onPost(fx.url, () => new Response(null, { status: 410 }));
    await ingest(tweet('g1', '1'));
    await wait(async () => {
      const row = await env.DB.prepare('SELECT valid FROM webhooks WHERE id = ?').bind(fx.hook.id).first<{ valid: number }>();
      expect(row!.valid).toBe(0);
    });
    expect((await call('GET', '/2/webhooks', { token: fx.app.bearer })).body.data[0].valid).toBe(false);
    await ingest(tweet('g2', '1'));
    await sleep(1500);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
    fx.receivers.onPost(fx.url, undefined);
    await call('PUT', `/2/webhooks/${fx.hook.id}`, { token: fx.app.bearer });
    await wait(() => expect(texts()).toEqual(['g1', 'g1', 'g2']));
  });
});

describe('revocation', () => {
  it("sends a user_event revoke to each valid webhook of the app, and nothing of the user's after", async () => {
    const url2 = receiverUrl('/second');
    fx.receivers.set(url2, fx.app.consumerSecret);
    const hook2 = await registerWebhook(fx.app, url2);
    await subscribe(fx.app, fx.hook.id, '1');
    await platform('DELETE', `/internal/authorizations/${fx.app.id}/1`);
    await ingest(tweet('after', '1'));
    await wait(() => {
      expect(fx.receivers.posts(fx.url)).toHaveLength(1);
      expect(fx.receivers.posts(url2)).toHaveLength(1);
    });
    const revoke = JSON.parse(fx.receivers.posts(fx.url)[0].body);
    expect(revoke.user_event.revoke).toMatchObject({ target: { app_id: fx.app.id }, source: { user_id: '1' } });
    expect(revoke.for_user_id).toBeUndefined();
    expect(
      await signerOf(fx.receivers.posts(url2)[0], [
        { name: 'h2', consumerSecret: fx.app.consumerSecret, signingSecret: hook2.signing_secret },
      ]),
    ).toBe('h2');
    await sleep(1500);
    expect(fx.receivers.posts(fx.url)).toHaveLength(1);
  });
});
