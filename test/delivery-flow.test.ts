import { beforeEach, describe, expect, it, vi } from 'vitest';
import { activeApp, call, grantUser, installReceivers, platform, registerWebhook, type TestApp } from './helpers';

let receivers: ReturnType<typeof installReceivers>;
let app: TestApp;
let hook: Awaited<ReturnType<typeof registerWebhook>>;
let port = 9400;

const user = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: `User ${id}`, screen_name: `u${id}`, ...extra });
const posts = (url: string) => receivers.seen.filter((r) => r.method === 'POST' && r.url.href === url);

beforeEach(async () => {
  receivers = installReceivers();
  app = await activeApp();
  const url = `http://127.0.0.1:${port++}/hook`;
  receivers.set(url, app.consumerSecret);
  hook = await registerWebhook(app, url);
});

describe('ingest → object → queue → POST', () => {
  it('delivers a tweet to the subscribed author', async () => {
    const token = await grantUser(app.id, '100');
    await call('POST', `/2/account_activity/webhooks/${hook.id}/subscriptions/all`, { token, body: {} });
    const res = await platform('POST', '/internal/activity', {
      id: 'act-1',
      type: 'tweet_create',
      tweet: { id: '555', text: 'hello', author: user('100') },
    });
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(posts(hook.url)).toHaveLength(1), { timeout: 5000 });
    const body = JSON.parse(posts(hook.url)[0].body);
    expect(body.for_user_id).toBe('100');
    expect(body.tweet_create_events[0].id_str).toBe('555');
  });
});
