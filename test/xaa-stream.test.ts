import { exports } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { shardOfUser } from '../src/domain/shards';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { objectRows } from './support/app-object';
import { activeApp, grantUser } from './support/apps';
import { appWithWebhookEachTest } from './support/fixtures';
import { platform } from './support/http';
import { sleep } from './support/time';
import { expectXProblem, xaaSubscribe } from './support/xaa';

const fx = appWithWebhookEachTest();

/** An open stream: its lines as they arrive (keep-alives as ''), and whether it ended. */
async function openStream(token: string, query = '') {
  const res = await exports.default.fetch(`http://127.0.0.1:8787/2/activity/stream${query}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  const lines: string[] = [];
  const state = { ended: false, raw: '' };
  if (res.status !== 200) return { res, lines, state, close: async () => {}, pump: Promise.resolve() };
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      state.raw += decoder.decode(value, { stream: true });
      let end = state.raw.indexOf('\r\n');
      while (end !== -1) {
        lines.push(state.raw.slice(0, end));
        state.raw = state.raw.slice(end + 2);
        end = state.raw.indexOf('\r\n');
      }
    }
    state.ended = true;
  })().catch(() => {
    state.ended = true;
  });
  return { res, lines, state, pump, close: () => reader.cancel() };
}

const events = (lines: string[]) => lines.filter((l) => l !== '').map((l) => JSON.parse(l));
const wait = (fn: () => void, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 50 });
const tweet = (author: string, text: string) => ({
  id: uniqueId('st'),
  type: 'tweet_create',
  tweet: { id: String(2_000_000 + Math.floor(Math.random() * 1e9)), text, author: u(author) },
});

describe('GET /2/activity/stream', () => {
  it("writes every subscription's events, one envelope per line, with keep-alives while idle", async () => {
    const streamOnly = await xaaSubscribe(fx.app.bearer, 'post.create', '1', { tag: 'stream only' });
    const withWebhook = await xaaSubscribe(fx.app.bearer, 'profile.update.bio', '1', { webhook_id: fx.hook.id });
    const stream = await openStream(fx.app.bearer);
    expect(stream.res.headers.get('content-type')).toBe('application/json');
    // Never gzipped on the way (a compressor would hold lines and keep-alives back).
    expect(stream.res.headers.get('content-encoding')).toBe('identity');
    await ingest(tweet('1', 'on the stream'), {
      id: uniqueId('pu'),
      type: 'profile_update',
      user: u('1'),
      field: 'bio',
      before: 'a',
      after: 'b',
    });
    await wait(() => expect(events(stream.lines)).toHaveLength(2));
    const [post, bio] = events(stream.lines);
    expect(post.data).toMatchObject({ event_type: 'post.create', tag: 'stream only', payload: { text: 'on the stream' } });
    expect(bio.data).toMatchObject({ event_type: 'profile.update.bio', payload: { before: 'a', after: 'b' } });
    // The webhook got the same envelope (the same event_uuid), once.
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    expect(JSON.parse(fx.receivers.posts(fx.url)[0].body).data.event_uuid).toBe(bio.data.event_uuid);
    await wait(() => expect(stream.lines).toContain(''), 5_000); // the keep-alive (1 s in the tests)
    const ledger = await objectRows<{ outcome: string; xaa_subscription_id: string; url: string }>(
      fx.app.id,
      `SELECT outcome, xaa_subscription_id, url FROM ledger WHERE kind = 'stream' ORDER BY id`,
    );
    expect(ledger.map((r) => [r.outcome, r.xaa_subscription_id])).toEqual([
      ['streamed', streamOnly.subscription_id],
      ['streamed', withWebhook.subscription_id],
    ]);
    expect(ledger[0].url).toMatch(/^stream:/);
    await stream.close();
  });

  it('backfill_minutes sends what the subscriptions produced before the connection', async () => {
    await xaaSubscribe(fx.app.bearer, 'post.create', '2');
    await ingest(tweet('2', 'before'));
    await sleep(200);
    const fresh = await openStream(fx.app.bearer);
    const backfilled = await openStream(fx.app.bearer, '?backfill_minutes=1');
    await ingest(tweet('2', 'after'));
    await wait(() => expect(events(backfilled.lines)).toHaveLength(2));
    await wait(() => expect(events(fresh.lines)).toHaveLength(1));
    expect(events(backfilled.lines).map((e) => e.data.payload.text)).toEqual(['before', 'after']);
    expect(events(fresh.lines).map((e) => e.data.payload.text)).toEqual(['after']);
    await fresh.close();
    await backfilled.close();
  });

  it('allows the setting of connections per app (2), and refuses one more in X shape', async () => {
    const a = await openStream(fx.app.bearer);
    const b = await openStream(fx.app.bearer);
    const c = await openStream(fx.app.bearer);
    expectXProblem({ status: c.res.status, body: await c.res.json(), headers: c.res.headers }, 429, 'TooManyConnections');
    // A client that goes away is noticed by the next write at the latest (a keep-alive: 1 s here).
    await a.close();
    await sleep(2_500);
    const d = await openStream(fx.app.bearer);
    expect(d.res.status).toBe(200);
    await b.close();
    await d.close();
  });

  it('a revoke mid-stream: oauth.revoke on the stream, then nothing private of that user', async () => {
    await grantUser(fx.app.id, '3', ['tweet.read', 'dm.read']);
    await xaaSubscribe(fx.app.bearer, 'dm.received', '3');
    await xaaSubscribe(fx.app.bearer, 'post.create', '3');
    const stream = await openStream(fx.app.bearer);
    const dm = (text: string) => ({
      id: uniqueId('dm'),
      type: 'direct_message',
      message: { id: '91', sender: u('4'), recipient: u('3'), text },
    });
    await ingest(dm('before'));
    await wait(() => expect(events(stream.lines)).toHaveLength(1));
    expect((await platform('DELETE', `/internal/authorizations/${fx.app.id}/3`)).status).toBe(200);
    await ingest(dm('after'), tweet('3', 'public still'));
    await wait(() => expect(events(stream.lines)).toHaveLength(3));
    await sleep(500);
    expect(events(stream.lines).map((e) => e.data.event_type)).toEqual(['dm.received', 'oauth.revoke', 'post.create']);
    expect(events(stream.lines)[1].data).toMatchObject({ filter: {}, payload: { user_id: '3', app_id: fx.app.id } });
    await stream.close();
  });

  it('a suspension closes the stream with a reason line', async () => {
    const stream = await openStream(fx.app.bearer);
    await platform('POST', `/internal/apps/${fx.app.id}/suspend`, { reason: 'test' });
    await wait(() => expect(stream.state.ended).toBe(true));
    const [reason] = events(stream.lines);
    expect(reason.errors[0]).toMatchObject({ title: 'operational-disconnect', disconnect_type: 'AppNotActive' });
  });

  it('a reader that stops reading does not hold back webhook delivery, and is cut off with a reason past the lag limit', async () => {
    await xaaSubscribe(fx.app.bearer, 'post.create', '5', { webhook_id: fx.hook.id });
    const res = await exports.default.fetch('http://127.0.0.1:8787/2/activity/stream', {
      headers: { authorization: `Bearer ${fx.app.bearer}` },
    });
    expect(res.status).toBe(200);
    // Nobody reads. Twenty 10 KB posts pass the tests' 64 KiB lag limit.
    const big = 'x'.repeat(10_000);
    for (let i = 0; i < 20; i++) await ingest(tweet('5', `${i} ${big}`));
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(20), 20_000);
    const text = await res.text(); // the reader comes back: what it had, then the reason, then the end
    const lines = text.split('\r\n').filter((l) => l !== '');
    const last = JSON.parse(lines.at(-1)!);
    expect(last.errors[0]).toMatchObject({ disconnect_type: 'ReaderFellBehind', resource_type: 'stream' });
    expect(lines.length).toBeLessThan(21);
  });

  it.each([
    ['?backfill_minutes=6', 'backfill_minutes'],
    ['?backfill_minutes=two', 'backfill_minutes'],
    [`?start_time=${new Date(Date.now() - 3_600_000).toISOString().slice(0, 19)}Z`, 'start_time'],
    ['?start_time=yesterday', 'start_time'],
    [`?end_time=${new Date(Date.now() - 60_000).toISOString().slice(0, 19)}Z`, 'end_time'],
  ])('%s is refused naming %s', async (query, parameter) => {
    const stream = await openStream(fx.app.bearer, query);
    const problem = expectXProblem({ status: stream.res.status, body: await stream.res.json(), headers: stream.res.headers }, 400);
    expect(problem.errors[0].parameter).toBe(parameter);
  });
});

describe('the stream of an app sharded over objects (docs/scaling.md)', () => {
  it("merges every shard's lines, whole, into one connection, and closes them all when the client goes", async () => {
    const app = await activeApp({ name: 'sharded stream', delivery_shards: 4 });
    const [first, second] = ['1', '2', '3', '4', '5', '6', '7', '8'].filter(
      (user, i, all) => all.findIndex((other) => shardOfUser(other, 4) === shardOfUser(user, 4)) === i,
    );
    expect(shardOfUser(first, 4)).not.toBe(shardOfUser(second, 4));
    await xaaSubscribe(app.bearer, 'post.create', first);
    await xaaSubscribe(app.bearer, 'post.create', second);
    const stream = await openStream(app.bearer);
    expect(stream.res.status).toBe(200);
    await ingest(tweet(first, 'from one shard'), tweet(second, 'from another'));
    await wait(() => expect(events(stream.lines)).toHaveLength(2));
    expect(
      events(stream.lines)
        .map((e) => e.data.payload.text)
        .sort(),
    ).toEqual(['from another', 'from one shard']);
    // Every shard forgets the connection once the client is gone (noticed by the next keep-alive, 1 s
    // here): the app can open its maximum (2) again.
    await stream.close();
    await sleep(2_500);
    const again = [await openStream(app.bearer), await openStream(app.bearer)];
    expect(again.map((s) => s.res.status)).toEqual([200, 200]);
    for (const s of again) await s.close();
  });
});
