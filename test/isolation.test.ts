import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ingest, testUser as u } from './support/activities';
import { activeApp, registerWebhook, subscribe, type TestApp } from './support/apps';
import { installReceivers, type Receivers, receiverUrl } from './support/receivers';
import { signerOf } from './support/signatures';

/**
 * The 2018 scenario (docs/delivery.md, "Why this design"): two apps register the same URL, and URLs whose hosts differ but
 * resolve to the same address with identical paths; users overlap; traffic interleaves. Each app must
 * receive exactly its own users' events, signed with its own secrets.
 */
let receivers: Receivers;
let a: TestApp;
let b: TestApp;
const SHARED = receiverUrl('/webhooks/twitter');
const SAME_ADDRESS_A = receiverUrl('/webhooks/twitter');
const SAME_ADDRESS_B = SAME_ADDRESS_A.replace('127.0.0.1', 'localhost');
const signers: { name: string; consumerSecret: string; signingSecret: string }[] = [];
const webhookOwner = new Map<string, string>();

// The oracle: who each app subscribed, written down independently of the service's audience code.
const subscribedIn: Record<string, string[]> = { A: ['1', '2'], B: ['1', '3'] };

beforeAll(async () => {
  receivers = installReceivers();
  a = await activeApp({ name: 'A' });
  b = await activeApp({ name: 'B' });
  for (const url of [SHARED, SAME_ADDRESS_A, SAME_ADDRESS_B]) {
    receivers.set(url, a.consumerSecret);
    receivers.set(url, b.consumerSecret);
  }
  const hooks = {
    A: [await registerWebhook(a, SHARED), await registerWebhook(a, SAME_ADDRESS_A)],
    B: [await registerWebhook(b, SHARED), await registerWebhook(b, SAME_ADDRESS_B)],
  };
  for (const [name, app] of [
    ['A', a],
    ['B', b],
  ] as const) {
    for (const hook of hooks[name]) {
      signers.push({ name: `${name}:${hook.id}`, consumerSecret: app.consumerSecret, signingSecret: hook.signing_secret });
      webhookOwner.set(hook.id, name);
      for (const user of subscribedIn[name]) await subscribe(app, hook.id, user, ['tweet.read', 'dm.read', 'follows.read']);
    }
  }
});

type User = ReturnType<typeof u>;
type TestActivity =
  | { id: string; type: 'direct_message'; message: { id: string; sender: User; recipient: User; text: string } }
  | { id: string; type: 'tweet_create'; tweet: { id: string; text: string; author: User; mentions: string[] } }
  | { id: string; type: 'follow'; source: User; target: User };

describe('two tenants on one URL and on one address', () => {
  it('each receives only its own users, signed with its own secrets', async () => {
    const activities: TestActivity[] = [];
    for (let i = 0; i < 12; i++) {
      const [from, to] = [
        ['1', '2'],
        ['2', '3'],
        ['3', '1'],
        ['1', '4'],
      ][i % 4];
      activities.push(
        i % 3 === 0
          ? {
              id: `dm-${i}`,
              type: 'direct_message',
              message: { id: String(1000 + i), sender: u(from), recipient: u(to), text: `secret ${i}` },
            }
          : i % 3 === 1
            ? { id: `tw-${i}`, type: 'tweet_create', tweet: { id: String(2000 + i), text: `t${i}`, author: u(from), mentions: [to] } }
            : { id: `fo-${i}`, type: 'follow', source: u(from), target: u(to) },
      );
    }
    // Interleave: half in one batch, the rest one by one, concurrently.
    await Promise.all([ingest(...activities.slice(0, 6)), ...activities.slice(6).map((act) => ingest(act))]);

    // Expected deliveries, per app: for each activity, its participants that the app subscribed, times the
    // app's two webhooks.
    const participants = (act: TestActivity): string[] =>
      act.type === 'direct_message'
        ? [act.message.sender.id, act.message.recipient.id]
        : act.type === 'tweet_create'
          ? [act.tweet.author.id, ...act.tweet.mentions]
          : [act.source.id, act.target.id];
    const expected = new Set<string>();
    for (const act of activities) {
      for (const app of ['A', 'B']) {
        for (const user of new Set(participants(act))) {
          if (subscribedIn[app].includes(user)) expected.add(`${app}|${user}|${act.id}`);
        }
      }
    }
    const perWebhook = 2;
    const all = () => [SHARED, SAME_ADDRESS_A, SAME_ADDRESS_B].flatMap((url) => receivers.posts(url));
    await vi.waitFor(() => expect(all().length).toBeGreaterThanOrEqual(expected.size * perWebhook), { timeout: 10_000, interval: 100 });

    const received = new Set<string>();
    for (const post of all()) {
      const signer = await signerOf(post, signers);
      const [appName, webhookId] = signer.split(':');
      expect(post.headers.get('webhook-id')).toContain(`_${webhookId}_`);
      const body = JSON.parse(post.body);
      // Never another app's user, never a user this app did not subscribe.
      expect(subscribedIn[appName]).toContain(body.for_user_id);
      // The same-address URLs are two destinations: A's only on 127.0.0.1, B's only on localhost.
      if (post.url.port === new URL(SAME_ADDRESS_A).port) expect(post.url.hostname).toBe(appName === 'A' ? '127.0.0.1' : 'localhost');
      const key = body.direct_message_events
        ? `dm-${Number(body.direct_message_events[0].id) - 1000}`
        : body.tweet_create_events
          ? `tw-${Number(body.tweet_create_events[0].id_str) - 2000}`
          : activities.find(
              (act) =>
                act.type === 'follow' &&
                act.source.id === body.follow_events[0].source.id_str &&
                act.target.id === body.follow_events[0].target.id_str,
            )!.id;
      received.add(`${appName}|${body.for_user_id}|${key}`);
    }
    expect([...received].sort()).toEqual([...expected].sort());
    expect(all()).toHaveLength(expected.size * perWebhook);
  });
});
