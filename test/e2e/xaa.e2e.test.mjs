// The X Activity API end to end, as a developer migrating to it would use it: the official X SDK
// (@xdevplatform/xdk, unmodified) against the service started the way the README starts it, every raw
// answer validated against X's own OpenAPI schemas, two apps sharing one webhook URL, public and
// private events, a protected author, a revoke while a stream is open, and a stream reader that stops
// reading. What arrived is compared with an oracle written from the XAA contract (xaa-oracle.mjs).
// The wire tap is loaded first, as a side-effect import (never reordered): the SDK binds fetch as it loads.
import './wire.mjs';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ApiError, Client } from '@xdevplatform/xdk';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { sleep, startDevService } from '../../scripts/lib/service.mjs';
import { wire } from './wire.mjs';
import { assertXAnswer, assertXEnvelope, assertXProblem } from './x-openapi.mjs';
import { expectedXaa } from './xaa-oracle.mjs';

// A reader falls behind after 256 KiB unread, so the test sees it soon; a burst of ingest stays well
// below that, so a reader that keeps reading is never cut off.
const MAX_LAG_BYTES = 262_144;
const FLOOD_POSTS = Number(process.env.XAA_FLOOD_POSTS ?? 700);
const stateDir = mkdtempSync(join(tmpdir(), 'aae-xaa-'));
let service;
let api;
let receiver;

before(async () => {
  service = await startDevService({ stateDir, vars: { XAA_STREAM_MAX_LAG_BYTES: MAX_LAG_BYTES, XAA_STREAM_KEEPALIVE_SECONDS: 2 } });
  api = client(service.baseUrl, service.platformToken);
  receiver = await startReceiver();
});

after(async () => {
  await receiver?.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The path template X's document names for a request path. */
const templateOf = (path) => (path.startsWith('/2/activity/subscriptions/') ? '/2/activity/subscriptions/{subscription_id}' : path);

/** Every raw X Activity API answer the SDK got so far is one X's schemas accept. */
function assertWireMatchesX() {
  assert.ok(wire.length > 0, 'the wire tap saw the SDK’s requests');
  for (const answer of wire.splice(0)) assertXAnswer(answer.method, templateOf(answer.path), answer);
}

const u = (id, extra = {}) => ({ id, name: `User ${id}`, screen_name: `user${id}`, ...extra });
let serial = 0;
/** Each activity carries a unique 12-digit token (a post, message or chat id, or a profile value) that its payload repeats. */
const token = () => String(900_000_000_000 + ++serial);
/** Which activity an envelope is from: the one whose token its payload quotes. */
const activityOf = (activities, envelope) => {
  const text = JSON.stringify(envelope.data.payload);
  return activities.find((a) => text.includes(`"${a.token}"`));
};

/** @param {string} author @param {string} text @param {object} [extra] */
function post(author, text, extra = {}) {
  const id = token();
  /** @type {{ id: string, token: string, type: string, tweet: { id: string, text: string, author: Record<string, unknown> } }} */
  const activity = { id: `xaa-${id}`, token: id, type: 'tweet_create', tweet: { id, text, author: u(author), ...extra } };
  return activity;
}

test('the X Activity API through @xdevplatform/xdk: subscriptions, webhook and stream, checked against an oracle', {
  timeout: 600_000,
}, async () => {
  const a = await api.activeApp('A');
  const b = await api.activeApp('B');
  receiver.trustApp('A', a.consumerSecret);
  receiver.trustApp('B', b.consumerSecret);
  // Both apps register the very same URL: deliveries are told apart by who signed them, never by URL.
  const hookA = await api.registerWebhook(a, receiver.url('/xaa'));
  const hookB = await api.registerWebhook(b, receiver.url('/xaa'));
  receiver.trustWebhook(hookA.id, 'A', hookA.signing_secret);
  receiver.trustWebhook(hookB.id, 'B', hookB.signing_secret);

  // Who authorized whom: user 1 gives A everything it asks and B only posts; 3 gives A DMs; 4 and the
  // protected 2 never authorize anyone (their public events need no authorization).
  const authorizations = {
    A: { 1: ['tweet.read', 'like.read', 'users.read'], 3: ['dm.read'] },
    B: { 1: ['tweet.read'] },
  };
  const apps = { A: a, B: b };
  for (const [name, users] of Object.entries(authorizations)) {
    for (const [user, scopes] of Object.entries(users)) await api.grant(apps[name], user, scopes);
  }
  const sdk = {
    A: new Client({ baseUrl: service.baseUrl, bearerToken: a.bearer }),
    B: new Client({ baseUrl: service.baseUrl, bearerToken: b.bearer }),
  };

  // Subscriptions, each with a unique tag so a delivery names the one it was for.
  const plan = [
    { app: 'A', tag: 'a-posts-1', type: 'post.create', user: '1', webhook: hookA.id },
    { app: 'A', tag: 'a-posts-2', type: 'post.create', user: '2', webhook: hookA.id },
    { app: 'A', tag: 'a-mentions-1', type: 'post.mention.create', user: '1', webhook: hookA.id },
    { app: 'A', tag: 'a-likes-in-1', type: 'like.create', user: '1', direction: 'inbound', webhook: hookA.id },
    { app: 'A', tag: 'a-likes-out-1', type: 'like.create', user: '1', direction: 'outbound', webhook: hookA.id },
    { app: 'A', tag: 'a-dms-3', type: 'dm.received', user: '3', webhook: hookA.id },
    { app: 'A', tag: 'a-chat-3', type: 'chat.received', user: '3', webhook: hookA.id },
    { app: 'A', tag: 'a-hello-4', type: 'post.create', user: '4', keyword: 'HELLO', webhook: hookA.id },
    { app: 'A', tag: 'a-bio-4', type: 'profile.update.bio', user: '4' }, // the stream only
    { app: 'B', tag: 'b-posts-1', type: 'post.create', user: '1', webhook: hookB.id },
    { app: 'B', tag: 'b-mentions-1', type: 'post.mention.create', user: '1', webhook: hookB.id },
    { app: 'B', tag: 'b-protected-2', type: 'post.create', user: '2' },
  ];
  const subscriptions = [];
  for (const p of plan) {
    // The SDK's own (camelCase) request shape; it sends X's snake_case names.
    const filter = { userId: p.user, ...(p.direction ? { direction: p.direction } : {}), ...(p.keyword ? { keyword: p.keyword } : {}) };
    const created = await sdk[p.app].activity.createSubscription({
      eventType: /** @type {any} */ (p.type),
      filter,
      tag: p.tag,
      ...(p.webhook ? { webhookId: p.webhook } : {}),
    });
    const sub = created.data?.subscription;
    assert.ok(sub, `the SDK parsed the created subscription ${p.tag}`);
    subscriptions.push({ ...p, id: /** @type {string} */ (sub.subscriptionId) });
  }
  assertWireMatchesX();

  // Refused, each with an X problem the SDK raises: a private event of a user who did not authorize
  // B, a duplicate, and a webhook of another app.
  const refused = [
    () => sdk.B.activity.createSubscription({ eventType: 'dm.received', filter: { userId: '3' } }),
    () => sdk.A.activity.createSubscription({ eventType: 'post.create', filter: { userId: '1' }, webhookId: hookA.id }),
    () => sdk.A.activity.createSubscription({ eventType: 'post.create', filter: { userId: '5' }, webhookId: hookB.id }),
  ];
  for (const attempt of refused) await assert.rejects(attempt, (err) => err instanceof ApiError && err.status >= 400 && err.status < 500);
  assert.equal(wire.length, 3);
  for (const answer of wire) assert.ok(answer.status >= 400 && answer.status < 500, `refused with ${answer.status}`);
  assertWireMatchesX();

  // Listing pages through the app's own subscriptions only; updating a tag; B cannot touch A's.
  const listed = [];
  // X's answer has `meta.next_token`; the SDK's types leave meta out but its parsed answer keeps it.
  /** @type {any} */
  let page = await sdk.A.activity.getSubscriptions({ maxResults: 4 });
  for (;;) {
    listed.push(.../** @type {any[]} */ (page.data ?? []).map((s) => s.subscriptionId));
    const next = page.meta?.nextToken;
    if (!next) break;
    page = await sdk.A.activity.getSubscriptions({ maxResults: 4, paginationToken: next });
  }
  assert.deepEqual(
    listed.sort(),
    subscriptions
      .filter((s) => s.app === 'A')
      .map((s) => s.id)
      .sort(),
  );
  const bio = /** @type {(typeof subscriptions)[number]} */ (subscriptions.find((s) => s.tag === 'a-bio-4'));
  const updated = await sdk.A.activity.updateSubscription(bio.id, { tag: 'a-bio-4-renamed' });
  assert.equal(updated.data?.subscription?.tag, 'a-bio-4-renamed');
  bio.tag = 'a-bio-4-renamed';
  await assert.rejects(sdk.B.activity.deleteSubscription(bio.id), (err) => err instanceof ApiError && err.status === 404);
  await assert.rejects(
    sdk.B.activity.updateSubscription(bio.id, { tag: 'mine now' }),
    (err) => err instanceof ApiError && err.status === 404,
  );
  assertWireMatchesX();

  // A reads its stream through the SDK.
  const streamed = [];
  let streamClosed = false;
  const stream = await sdk.A.stream.activity();
  stream.on('data', (event) => {
    if (event?.data || event?.errors) streamed.push(event);
  });
  stream.on('close', () => (streamClosed = true));
  stream.on('error', () => {});
  await sleep(300);

  const now = Date.now();
  const phase1 = [
    post('1', 'plain post by one'),
    post('4', 'Hello from four, @user1', { mentions: ['1'] }),
    post('4', 'no greeting here'),
    (() => {
      const locked = post('2', 'protected, about @user1', { mentions: ['1'] });
      locked.tweet.author.protected = true;
      return locked;
    })(),
    (() => {
      const id = token();
      return { id: `xaa-${id}`, token: id, type: 'favorite', user: u('4'), tweet: { id, text: 'liked', author: u('1') } };
    })(),
    (() => {
      const id = token();
      return { id: `xaa-${id}`, token: id, type: 'direct_message', message: { id, sender: u('4'), recipient: u('3'), text: 'psst' } };
    })(),
    (() => {
      const id = token();
      return { id: `xaa-${id}`, token: id, type: 'profile_update', user: u('4'), field: 'bio', before: 'old', after: id };
    })(),
    (() => {
      const id = token();
      return {
        id: `xaa-${id}`,
        token: id,
        type: 'chat_message',
        sender_id: '4',
        recipient_ids: ['3'],
        conversation_id: '3:4',
        message: { id, encoded_event: `ciphertext-${id}`, conversation_token: 'opaque-token' },
      };
    })(),
  ].map((x, i) => ({ ...x, created_at: now + i }));
  /** What the platform posts: the activity without the test's token. */
  const body = (x) => Object.fromEntries(Object.entries(x).filter(([k]) => k !== 'token'));
  await api.ingest(phase1.map(body));

  const webhookEnvelopes = () => receiver.deliveries.filter((d) => d.path === '/xaa' && d.json?.data);
  const keyOf = (app, envelope, activities) => {
    const sub = subscriptions.find((s) => s.app === app && s.tag === envelope.data.tag);
    const activity = activityOf(activities, envelope);
    assert.ok(sub && activity, `${app} got an envelope no subscription or activity explains: ${JSON.stringify(envelope)}`);
    return `${app}|${sub.id}|${activity.id}`;
  };
  const oracleSubs = subscriptions.map((s) => ({ ...s, direction: s.direction, keyword: s.keyword }));
  const expected1 = expectedXaa(phase1, oracleSubs, authorizations);
  const toWebhook = (keys) => [...keys].filter((k) => subscriptions.find((s) => s.id === k.split('|')[1]).webhook);
  const toStreamOfA = (keys) => [...keys].filter((k) => k.startsWith('A|'));
  await waitFor(
    () => webhookEnvelopes().length >= toWebhook(expected1).length,
    30_000,
    `${toWebhook(expected1).length} webhook deliveries`,
  );
  await waitFor(() => streamed.length >= toStreamOfA(expected1).length, 30_000, `${toStreamOfA(expected1).length} stream lines`);
  await sleep(1500);

  const gotWebhook = webhookEnvelopes().map((d) => {
    assertXEnvelope(d.json);
    return keyOf(d.app, d.json, phase1);
  });
  assert.deepEqual(receiver.problems, [], 'every delivery verified with its own app’s and webhook’s keys');
  assert.equal(new Set(gotWebhook).size, gotWebhook.length, 'no webhook duplicates');
  assert.deepEqual(gotWebhook.sort(), toWebhook(expected1).sort());
  const gotStream = streamed.map((e) => {
    assertXEnvelope(e);
    return keyOf('A', e, phase1);
  });
  assert.deepEqual(gotStream.sort(), toStreamOfA(expected1).sort(), 'the stream carries every event of A’s subscriptions, webhook or not');
  // The same event reaches webhook and stream as one envelope (one event_uuid per event and subscription).
  const uuids = new Map(
    webhookEnvelopes()
      .filter((d) => d.app === 'A')
      .map((d) => [d.json.data.event_uuid, d.json]),
  );
  for (const e of streamed.filter((e) => uuids.has(e.data.event_uuid))) assert.deepEqual(e, uuids.get(e.data.event_uuid));
  assert.equal(streamed.filter((e) => uuids.has(e.data.event_uuid)).length, uuids.size);
  // Opaque chat material passes through untouched.
  const chat = webhookEnvelopes().find((d) => d.json.data.event_type === 'chat.received');
  assert.ok(JSON.stringify(chat?.json.data.payload).includes(`"ciphertext-${phase1[7].token}"`));

  // User 1 revokes A while A's stream is open: oauth.revoke on the stream and on A's webhook (not B's),
  // A's private subscriptions on user 1 end, its public one stays; B is untouched.
  const beforeRevoke = { webhook: webhookEnvelopes().length, stream: streamed.length };
  await api.revoke(a, '1');
  const isRevoke = (e) => e.data?.event_type === 'oauth.revoke';
  await waitFor(() => streamed.some(isRevoke) && webhookEnvelopes().some((d) => isRevoke(d.json)), 10_000, 'oauth.revoke');
  for (const e of [
    streamed.find(isRevoke),
    ...webhookEnvelopes()
      .filter((d) => isRevoke(d.json))
      .map((d) => d.json),
  ]) {
    assertXEnvelope(e);
    assert.deepEqual(e.data.filter, {});
    assert.equal(e.data.payload.user_id, '1');
    assert.equal(e.data.payload.app_id, a.id);
  }
  assert.deepEqual(
    webhookEnvelopes()
      .filter((d) => isRevoke(d.json))
      .map((d) => d.app),
    ['A'],
  );
  const afterRevoke = await sdk.A.activity.getSubscriptions({ maxResults: 100 });
  const liveTags = (afterRevoke.data ?? []).map((s) => s.tag).sort();
  assert.deepEqual(liveTags, ['a-bio-4-renamed', 'a-chat-3', 'a-dms-3', 'a-hello-4', 'a-posts-1', 'a-posts-2'].sort());
  assertWireMatchesX();

  const now2 = Date.now();
  const phase2 = [post('1', 'public after the revoke'), post('4', 'hello again @user1', { mentions: ['1'] })].map((x, i) => ({
    ...x,
    created_at: now2 + i,
  }));
  await api.ingest(phase2.map(body));
  const revokedAuthorizations = { ...authorizations, A: { 3: authorizations.A[3] } };
  const liveSubs = oracleSubs.filter((s) => s.app !== 'A' || liveTags.includes(s.tag));
  const expected2 = expectedXaa(phase2, liveSubs, revokedAuthorizations);
  const newWebhook = () =>
    webhookEnvelopes()
      .slice(beforeRevoke.webhook)
      .filter((d) => !isRevoke(d.json));
  const newStream = () => streamed.slice(beforeRevoke.stream).filter((e) => !isRevoke(e));
  await waitFor(() => newWebhook().length >= toWebhook(expected2).length, 20_000, 'phase 2 webhook deliveries');
  await waitFor(() => newStream().length >= toStreamOfA(expected2).length, 20_000, 'phase 2 stream lines');
  await sleep(1500);
  assert.deepEqual(
    newWebhook()
      .map((d) => keyOf(d.app, d.json, phase2))
      .sort(),
    toWebhook(expected2).sort(),
  );
  assert.deepEqual(
    newStream()
      .map((e) => keyOf('A', e, phase2))
      .sort(),
    toStreamOfA(expected2).sort(),
  );
  assert.ok(
    !newWebhook().some((d) => d.app === 'A' && d.json.data.event_type === 'post.mention.create'),
    'nothing private of user 1 reaches A after the revoke',
  );

  // A second reader connects and stops reading, while A's webhook keeps getting the same events and
  // the SDK's reader keeps reading them: the silent reader is cut off with a reason line once its
  // unread lines pass the lag limit, and nobody else waits for it.
  const silent = await fetch(`${service.baseUrl}/2/activity/stream`, { headers: { authorization: `Bearer ${a.bearer}` } });
  assert.equal(silent.status, 200);
  // A third connection is over the setting (2 per app): refused in X's problem shape.
  await assert.rejects(sdk.A.stream.activity(), /429/);
  assertWireMatchesX();

  // Enough bytes to fill what lies between the object and a reader that does not read: the object's
  // pipe, wrangler's proxy and both loopback sockets' buffers (several MB), before the lag counts.
  const big = 'x'.repeat(24_000);
  const flood = Array.from({ length: FLOOD_POSTS }, (_, i) => ({ ...post('1', `flood ${i} ${big}`), created_at: Date.now() + i }));
  const floodStarted = Date.now();
  const hookBefore = webhookEnvelopes().filter((d) => d.app === 'A').length;
  const sdkBefore = streamed.length;
  for (let i = 0; i < flood.length; i += 4) await api.ingest(flood.slice(i, i + 4).map(body));
  await waitFor(
    () => webhookEnvelopes().filter((d) => d.app === 'A').length - hookBefore >= flood.length,
    120_000,
    'the flood on A’s webhook',
  );
  await waitFor(() => streamClosed || streamed.length - sdkBefore >= flood.length, 60_000, 'the flood on the SDK’s stream');
  assert.deepEqual(
    streamed.filter((e) => e.errors),
    [],
    'the reader that keeps reading is never cut off',
  );
  assert.equal(streamClosed, false, 'the reading stream stays open');

  // The silent reader comes back: what it had been sent, then the reason line, then the end.
  console.log(`flood of ${flood.length} posts: on A's webhook and the SDK's stream in ${Date.now() - floodStarted} ms`);
  // It was cut off by now (the flood is well past what the network holds), so its body ends at once.
  const text = await Promise.race([silent.text(), sleep(30_000).then(() => null)]);
  assert.ok(text !== null, `the silent reader was not cut off after ${flood.length} posts of ${big.length} bytes`);
  const lines = text.split('\r\n').filter((l) => l !== '');
  const reason = JSON.parse(lines.at(-1));
  assertXProblem(reason.errors[0]);
  assert.equal(reason.errors[0].disconnect_type, 'ReaderFellBehind');
  const delivered = lines.slice(0, -1).map((l) => JSON.parse(l));
  assert.ok(delivered.length < flood.length, `the silent reader was cut off (${delivered.length} of ${flood.length} lines)`);
  for (const e of delivered) assertXEnvelope(e);
  console.log(`silent reader: cut off after ${delivered.length} of ${flood.length} lines (${text.length} bytes read back)`);

  // Closing while a read is pending makes the SDK log the cancelled read; that line is expected here.
  const logged = [];
  const consoleError = console.error;
  console.error = (...args) => logged.push(args.map(String).join(' '));
  try {
    stream.close();
    await sleep(200);
  } finally {
    console.error = consoleError;
  }
  assert.ok(
    logged.every((line) => line.startsWith('Stream error:')),
    logged.join('\n'),
  );
  assert.equal(streamClosed, true);
  assert.deepEqual(receiver.problems, []);
});
