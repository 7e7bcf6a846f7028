import { describe, expect, it, vi } from 'vitest';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { registerWebhook } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { browser, hiddenField } from './support/oauth';
import { pageText, portalSignIn, signedInDeveloper } from './support/pages';
import { receiverUrl } from './support/receivers';

const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 100 });

describe('portal delivery log', () => {
  it('lists a test event with its outcome, and its detail shows status, latency, what next and headers without secrets', async () => {
    const { b, csrf, hook, receivers, url, app } = await signedInDeveloper();
    await b.post(`/portal/webhooks/${hook.id}/test`, { csrf });
    await wait(() => expect(receivers.posts(url)).toHaveLength(1));
    let log = '';
    await wait(async () => {
      log = (await b.get(`/portal/webhooks/${hook.id}/deliveries?status=delivered`)).text;
      expect(log).toContain('test_event');
    });
    const attempt = log.match(/href="\/portal\/webhooks\/\d+\/deliveries\/(\d+)"/)![1];
    const detail = await b.get(`/portal/webhooks/${hook.id}/deliveries/${attempt}`);
    expect(detail.status).toBe(200);
    const text = pageText(detail.text);
    expect(text).toMatch(/Status 200/);
    expect(text).toMatch(/Latency \d+ ms/);
    expect(text).toMatch(/What next delivered/);
    expect(text).toMatch(/webhook-id msg_\d+_\d+_app/);
    expect(text).toContain('webhook-signature (not shown)');
    expect(detail.text).not.toContain(hook.signing_secret);
    expect(detail.text).not.toContain(app.consumerSecret);
    expect(detail.text).not.toContain(post0Signature(receivers.posts(url)[0].headers));

    // Filters narrow the log: no failures, and nothing for a user.
    expect(pageText((await b.get(`/portal/webhooks/${hook.id}/deliveries?status=failed`)).text)).toContain('No attempts match');
    expect(pageText((await b.get(`/portal/webhooks/${hook.id}/deliveries?user_id=12`)).text)).toContain('No attempts match');
    // A bad filter is a 400 page naming the field, not a 500.
    const bad = await b.get(`/portal/webhooks/${hook.id}/deliveries?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(pageText(bad.text)).toContain('since');
  });

  it('replays a window up to this very second, and refuses a window in the future', async () => {
    const fx = await appWithWebhook({ subscribers: ['7301'] });
    const b = browser();
    const csrf = hiddenField((await portalSignIn(b, fx.app)).text, 'csrf');
    await ingest({ id: uniqueId('portal'), type: 'tweet_create', tweet: { id: '7301001', text: 'hi', author: u('7301') } });
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    const now = Date.now();
    const minute = (ms: number) => new Date(ms).toISOString().slice(0, 16);
    const started = await b.post(`/portal/webhooks/${fx.hook.id}/replay`, { csrf, from: minute(now - 3_600_000), to: minute(now) });
    expect(started.status).toBe(303);
    expect(started.location).toMatch(new RegExp(`^/portal/webhooks/${fx.hook.id}\\?job=\\d+$`));
    const job = started.location!.split('job=')[1];
    expect(pageText((await b.get(started.location!)).text)).toContain(`Replay job ${job} started`);
    // The event of seconds ago is sent again, then the job's status.
    await wait(() => {
      const posts = fx.receivers.posts(fx.url);
      expect(posts.filter((p) => p.headers.get('x-replay-job-id') === job && p.body.includes('7301001'))).toHaveLength(1);
      expect(posts.some((p) => p.body.includes('"job_state":"Complete"'))).toBe(true);
    });
    const future = await b.post(`/portal/webhooks/${fx.hook.id}/replay`, {
      csrf,
      from: minute(now + 3_600_000),
      to: minute(now + 7_200_000),
    });
    expect(future.status).toBe(400);
    expect(pageText(future.text)).toContain('to must not be in the future');
    const garbled = await b.post(`/portal/webhooks/${fx.hook.id}/replay`, { csrf, from: 'last week', to: minute(now) });
    expect(garbled.status).toBe(400);
    expect(pageText(garbled.text)).toContain('from');
  });

  it('shows the rate-limit usage its calls and pages add up to', async () => {
    const { b, csrf, hook } = await signedInDeveloper();
    await b.post(`/portal/webhooks/${hook.id}/validate`, { csrf });
    const page = await b.get('/portal/limits');
    expect(page.status).toBe(200);
    const row = (endpoint: string) => pageText(page.text.match(new RegExp(`data-testid="limit-${endpoint}"[\\s\\S]*?</tr>`))![0]);
    // The fixture registered the webhook through the API (1 create) and the portal validated once.
    expect(row('webhooks:create')).toMatch(/Add a webhook webhooks:create 1 15/);
    expect(row('webhooks:validate')).toMatch(/webhooks:validate 1 /);
    expect(row('replay')).toMatch(/replay 0 5/);
  });
});

/** The Standard Webhooks signature value a receiver got (it must never be shown back). */
const post0Signature = (headers: Headers) => headers.get('webhook-signature')!.split(' ')[0].split(',')[1];

describe('portal subscriptions', () => {
  it('counts and lists the users subscribed to a webhook', async () => {
    const fx = await appWithWebhook({ subscribers: ['7001', '7002'] });
    const b = browser();
    const home = await portalSignIn(b, fx.app);
    expect(home.text).toMatch(/data-testid="subscriptions-all">2</);
    const list = await b.get(`/portal/webhooks/${fx.hook.id}/subscriptions`);
    expect(pageText(list.text)).toMatch(/7001.*7002|7002.*7001/);
    const other = await registerWebhook(
      fx.app,
      (() => {
        const u = receiverUrl();
        fx.receivers.set(u, fx.app.consumerSecret);
        return u;
      })(),
    );
    expect(pageText((await b.get(`/portal/webhooks/${other.id}/subscriptions`)).text)).toContain('No user is subscribed');
  });
});
