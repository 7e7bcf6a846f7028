// End to end: the service started the way the README starts it, real receivers on 127.0.0.1 that
// answer CRC and verify both signatures from their own code, real HTTP all the way. What each
// receiver got is compared with an oracle computed from docs/events.md, not from the service's code.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { sleep, startDevService } from '../../scripts/lib/service.mjs';
import { expectedDeliveries, KEY } from './oracle.mjs';

const ALL = ['tweet.read', 'users.read', 'like.read', 'follows.read', 'block.read', 'mute.read', 'dm.read'];
const stateDir = mkdtempSync(join(tmpdir(), 'aae-e2e-'));
let service;
let api;
const receivers = [];

before(async () => {
  service = await startDevService({ stateDir });
  api = client(service.baseUrl, service.platformToken);
});

after(async () => {
  await Promise.all(receivers.map((r) => r.close()));
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

const u = (id, extra = {}) => ({ id, name: `User ${id}`, screen_name: `user${id}`, ...extra });
const T0 = Date.UTC(2026, 0, 1);
let clock = 0;
/** Each activity gets a unique created_at, which every payload carries: that is how a delivery is traced back. */
const act = (id, body) => ({ id, created_at: T0 + ++clock * 1000, ...body });
const createdOf = (json) => {
  const event = Object.entries(json).find(([k]) => k.endsWith('_events'))?.[1]?.[0];
  return Number(event?.timestamp_ms ?? event?.created_timestamp);
};

async function waitFor(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('every activity type reaches exactly the entitled webhooks, signed, across tenants', { timeout: 180_000 }, async () => {
  const shared = await startReceiver();
  const other = await startReceiver();
  receivers.push(shared, other);

  const a = await api.activeApp('A');
  const b = await api.activeApp('B');
  for (const [app] of [[a], [b]]) {
    shared.trustApp(app.name, app.consumerSecret);
    other.trustApp(app.name, app.consumerSecret);
  }
  // A and B register the same URL; B also the same path on another port.
  const hookA = await api.registerWebhook(a, shared.url('/webhooks/aaa'));
  const hookB = await api.registerWebhook(b, shared.url('/webhooks/aaa'));
  const hookB2 = await api.registerWebhook(b, other.url('/webhooks/aaa'));
  shared.trustWebhook(hookA.id, 'A', hookA.signing_secret);
  shared.trustWebhook(hookB.id, 'B', hookB.signing_secret);
  other.trustWebhook(hookB2.id, 'B', hookB2.signing_secret);
  assert.ok(shared.crcs.some((c) => c.app === 'A') && shared.crcs.some((c) => c.app === 'B'), 'both apps ran a CRC');

  const tenants = {
    A: { webhooks: [hookA.id], users: { 1: ALL, 2: ['tweet.read'] } },
    B: { webhooks: [hookB.id, hookB2.id], users: { 1: ['tweet.read', 'dm.read'], 3: ALL } },
  };
  const apps = { A: a, B: b };
  for (const [name, t] of Object.entries(tenants)) {
    for (const [user, scopes] of Object.entries(t.users)) {
      for (const webhookId of t.webhooks) await api.subscribe(apps[name], webhookId, user, scopes);
    }
  }

  const activities = [
    act('e2e-tweet', {
      type: 'tweet_create',
      tweet: { id: '11', text: 'hi @3', author: u('1'), mentions: ['3'], in_reply_to_user_id: '2' },
    }),
    act('e2e-protected', {
      type: 'tweet_create',
      tweet: { id: '12', text: 'locked', author: u('2', { protected: true }), mentions: ['1', '3'] },
    }),
    act('e2e-quote', { type: 'tweet_create', tweet: { id: '13', text: 'q', author: u('4'), quoted_user_id: '1', retweeted_user_id: '3' } }),
    act('e2e-delete', { type: 'tweet_delete', tweet_id: '11', author_id: '1' }),
    act('e2e-fav', { type: 'favorite', user: u('3'), tweet: { id: '11', text: 'hi', author: u('1') } }),
    act('e2e-follow', { type: 'follow', source: u('1'), target: u('3') }),
    act('e2e-unfollow', { type: 'unfollow', source: u('3'), target: u('1') }),
    act('e2e-block', { type: 'block', source: u('1'), target: u('2') }),
    act('e2e-unblock', { type: 'unblock', source: u('3'), target: u('2') }),
    act('e2e-mute', { type: 'mute', source: u('2'), target: u('1') }),
    act('e2e-unmute', { type: 'unmute', source: u('1'), target: u('3') }),
    act('e2e-dm', {
      type: 'direct_message',
      message: { id: '21', sender: u('1'), recipient: u('3'), text: 'secret', source_app_id: '99' },
    }),
    act('e2e-dm2', { type: 'direct_message', message: { id: '22', sender: u('2'), recipient: u('4'), text: 'other secret' } }),
    act('e2e-typing', { type: 'dm_typing', sender: u('3'), recipient: u('1') }),
    act('e2e-read', { type: 'dm_read', reader: u('1'), other: u('3'), last_read_event_id: '21' }),
  ];
  await Promise.all([api.ingest(activities.slice(0, 8)), api.ingest(activities.slice(8))]);
  // Posting the same activities again must deliver nothing new.
  await api.ingest(activities.slice(0, 3));

  const expected = expectedDeliveries(activities, tenants);
  const all = () => [...shared.deliveries, ...other.deliveries];
  await waitFor(() => all().length >= expected.size, 30_000, `${expected.size} deliveries`);
  await sleep(1500);

  const byCreated = new Map(activities.map((x) => [x.created_at, x]));
  const got = all().map((d) => {
    const activity = byCreated.get(createdOf(d.json));
    assert.ok(activity, `unexpected payload ${d.body}`);
    assert.ok(d.json[KEY[activity.type]], `${activity.id} arrived under ${Object.keys(d.json)}`);
    return `${d.app}|${d.webhookId}|${d.json.for_user_id}|${activity.id}`;
  });
  assert.deepEqual([...shared.problems, ...other.problems], []);
  assert.equal(new Set(got).size, got.length, 'no duplicates');
  assert.deepEqual(got.sort(), [...expected].sort());

  // Revocation: A hears a user_event for user 1, then nothing more of user 1.
  await api.revoke(a, '1');
  await waitFor(() => shared.deliveries.some((d) => d.json?.user_event), 10_000, 'revoke event');
  const revoke = shared.deliveries.find((d) => d.json?.user_event);
  assert.ok(revoke);
  assert.equal(revoke.app, 'A');
  assert.deepEqual(revoke.json.user_event.revoke.target, { app_id: a.id });
  assert.deepEqual(revoke.json.user_event.revoke.source, { user_id: '1' });

  const late = act('e2e-late', { type: 'tweet_create', tweet: { id: '31', text: 'after revoke', author: u('1') } });
  await api.ingest([late]);
  const lateFor = (app) => all().filter((d) => d.app === app && createdOf(d.json) === late.created_at);
  await waitFor(() => lateFor('B').length === 2, 10_000, 'B to get the late tweet');
  await sleep(1500);
  assert.equal(lateFor('A').length, 0, 'nothing of a revoked user reaches A');
  assert.equal(lateFor('B').length, 2, 'B still gets user 1 on both its webhooks');

  // Replay: A asks for its last minutes again. Only what is still entitled comes back (user 1 revoked A).
  await sleep(60_000 - (Date.now() % 60_000) + 200); // replay windows are whole minutes in the past
  const minute = (ms) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);
  const replayFrom = Date.now() - 10 * 60_000;
  const job = await api.call(
    'POST',
    `/2/account_activity/replay/webhooks/${hookA.id}/subscriptions/all?from_date=${minute(replayFrom)}&to_date=${minute(Date.now())}`,
    { token: a.bearer },
  );
  assert.equal(job.status, 200, job.text);
  await waitFor(() => shared.deliveries.some((d) => d.json?.replay_job_status), 20_000, 'replay_job_status');
  const replayed = shared.deliveries.filter((d) => d.headers['x-replay-job-id'] === job.body.data.job_id);
  const firstTime = shared.deliveries.filter((d) => d.app === 'A' && !d.headers['x-replay-job-id'] && d.json?.for_user_id === '2');
  assert.deepEqual(
    replayed.map((d) => d.headers['webhook-id']).sort(),
    firstTime.map((d) => d.headers['webhook-id']).sort(),
    'the replay re-sends exactly the still-entitled deliveries, with their webhook-ids',
  );
  assert.ok(replayed.every((d) => d.app === 'A' && d.json.for_user_id === '2'));
  const status = shared.deliveries.find((d) => d.json?.replay_job_status)?.json.replay_job_status;
  assert.equal(status?.job_state, 'Complete');

  // Suspension: nothing more for B at all.
  await api.suspend(b);
  const afterSuspend = act('e2e-suspended', { type: 'tweet_create', tweet: { id: '32', text: 'x', author: u('3') } });
  await api.ingest([afterSuspend]);
  await sleep(2500);
  assert.equal(all().filter((d) => createdOf(d.json) === afterSuspend.created_at).length, 0);
  assert.deepEqual([...shared.problems, ...other.problems], []);
});
