import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u, uniqueId } from './support/activities';
import { activeApp, createApp, grantUser } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { call, PLATFORM_TOKEN, platform } from './support/http';
import { browser, hiddenField, signIn } from './support/oauth';
import { consoleSignIn, pageText, portalSignIn } from './support/pages';

const wait = (fn: () => void | Promise<void>, timeout = 10_000) => vi.waitFor(fn, { timeout, interval: 100 });

async function signedInOperator() {
  const b = browser();
  const home = await consoleSignIn(b);
  expect(home.status).toBe(200);
  return { b, home, csrf: hiddenField(home.text, 'csrf') };
}

const appStatus = async (id: string) => (await platform('GET', `/internal/apps/${id}`)).body.data.status as string;
/** The text of one table row or card the page marks with `testId`. */
const part = (html: string, testId: string, end = '</tr>') => {
  const at = html.indexOf(`data-testid="${testId}"`);
  if (at < 0) throw new Error(`no ${testId} in the page`);
  return pageText(html.slice(html.indexOf('>', at) + 1, html.indexOf(end, at)));
};

describe('console sign-in', () => {
  it('signs the operator in with the platform token only: a Strict, HttpOnly cookie; a wrong token is a 401 and no session', async () => {
    const b = browser();
    const form = await b.get('/console/sign-in');
    expect(form.headers.get('content-security-policy')).toContain("default-src 'none'");
    const wrong = await b.post('/console/sign-in', { csrf: hiddenField(form.text, 'csrf'), platform_token: `${PLATFORM_TOKEN}x` });
    expect(wrong.status).toBe(401);
    expect(pageText(wrong.text)).toContain('not the platform token');
    expect(wrong.text).not.toContain(PLATFORM_TOKEN);
    expect(b.jar.has('aae_console')).toBe(false);
    expect((await b.get('/console')).location).toBe('/console/sign-in');

    const retry = await b.post('/console/sign-in', { csrf: hiddenField(wrong.text, 'csrf'), platform_token: PLATFORM_TOKEN });
    expect(retry.status).toBe(303);
    const cookie = retry.headers.getAll('set-cookie').find((c) => c.startsWith('aae_console='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const home = await b.get('/console');
    expect(home.status).toBe(200);
    expect(home.text).not.toContain(PLATFORM_TOKEN);
  });

  it('refuses every sign-in from an address past 10 failures, the right token included, and no one else', async () => {
    const attempt = async (token: string, address: string) => {
      const b = browser();
      const form = await b.get('/console/sign-in');
      return b.post('/console/sign-in', { csrf: hiddenField(form.text, 'csrf'), platform_token: token }, { 'cf-connecting-ip': address });
    };
    for (let i = 0; i < 10; i++) expect((await attempt(`aae_pt_guess${i}`, '203.0.113.50')).status).toBe(401);
    const limited = await attempt(PLATFORM_TOKEN, '203.0.113.50');
    expect(limited.status).toBe(429);
    expect(pageText(limited.text)).toContain('Too many failed sign-ins.');
    expect(limited.headers.getAll('set-cookie').some((c) => c.startsWith('aae_console='))).toBe(false);
    expect((await attempt(PLATFORM_TOKEN, '198.51.100.50')).status).toBe(303);
  });

  it('refuses a sign-in without its form token', async () => {
    const b = browser();
    expect((await b.post('/console/sign-in', { platform_token: PLATFORM_TOKEN })).status).toBe(403);
    expect(b.jar.has('aae_console')).toBe(false);
  });
});

describe("a principal's session opens only its own pages", () => {
  it('a developer, a user and an operator cannot use one another’s cookies, and no cookie opens the platform API', async () => {
    const app = await activeApp();
    const developer = browser();
    await portalSignIn(developer, app);
    const user = browser();
    await signIn(user, '5501');
    const { b: operator } = await signedInOperator();
    const cookies = {
      portal: developer.jar.get('aae_portal')!,
      user: user.jar.get('aae_session')!,
      console: operator.jar.get('aae_console')!,
    };

    for (const value of [cookies.portal, cookies.user]) {
      const b = browser();
      b.jar.set('aae_console', value);
      expect((await b.get('/console')).location).toBe('/console/sign-in');
    }
    for (const value of [cookies.console, cookies.user]) {
      const b = browser();
      b.jar.set('aae_portal', value);
      expect((await b.get('/portal')).location).toBe('/portal/sign-in');
    }
    for (const value of [cookies.console, cookies.portal]) {
      const b = browser();
      b.jar.set('aae_session', value);
      expect((await b.get('/i/connected_apps')).status).toBe(302);
    }
    const api = await call('GET', '/internal/apps', { headers: { cookie: `aae_console=${cookies.console}` } });
    expect(api.status).toBe(401);
  });
});

describe('review queue', () => {
  it('lists a pending app and approves it; without the CSRF token nothing changes', async () => {
    const app = await createApp({ name: 'Needs Review', description: 'Posts a summary every morning.' });
    const { b, home, csrf } = await signedInOperator();
    expect(part(home.text, `pending-${app.id}`, '</article>')).toContain('Posts a summary every morning.');

    expect((await b.post(`/console/apps/${app.id}/approve`, { return_to: 'review' })).status).toBe(403);
    expect((await b.post(`/console/apps/${app.id}/approve`, { csrf: 'forged', return_to: 'review' })).status).toBe(403);
    expect(await appStatus(app.id)).toBe('pending');

    const approved = await b.post(`/console/apps/${app.id}/approve`, { csrf, return_to: 'review' });
    expect(approved.status).toBe(303);
    expect(approved.location).toBe(`/console?done=approved&app=${app.id}`);
    expect(await appStatus(app.id)).toBe('active');
    const after = await b.get(approved.location!);
    expect(pageText(after.text)).toContain('Needs Review: The app is approved');
    expect(after.text).not.toContain(`pending-${app.id}`);
  });

  it('suspends with a reason, shown in the status history and to the developer; no reason, no change', async () => {
    const app = await createApp({ name: 'Spammy' });
    const { b, csrf } = await signedInOperator();
    const noReason = await b.post(`/console/apps/${app.id}/suspend`, { csrf, reason: '  ', return_to: 'app' });
    expect(noReason.status).toBe(400);
    expect(pageText(noReason.text)).toContain('reason');
    expect(await appStatus(app.id)).toBe('pending');

    await b.post(`/console/apps/${app.id}/approve`, { csrf, return_to: 'app' });
    const suspended = await b.post(`/console/apps/${app.id}/suspend`, { csrf, reason: 'Sends unsolicited DMs', return_to: 'app' });
    expect(suspended.status).toBe(303);
    expect(await appStatus(app.id)).toBe('suspended');
    const page = await b.get(suspended.location!);
    const history = part(page.text, 'status-history', '</table>');
    expect(history).toMatch(/Pending review.*Active.*Suspended Sends unsolicited DMs/);
    expect(part(page.text, 'status-reason', '</dd>')).toBe('Sends unsolicited DMs');

    const developer = browser();
    const portal = await portalSignIn(developer, app);
    expect(pageText(portal.text)).toContain('Your app is suspended: Sends unsolicited DMs');
  });

  it('answers 404 for an app that does not exist and 400 for a malformed id', async () => {
    const { b, csrf } = await signedInOperator();
    expect((await b.get('/console/apps/999999999999')).status).toBe(404);
    expect((await b.post('/console/apps/999999999999/approve', { csrf })).status).toBe(404);
    expect((await b.get('/console/apps/abc')).status).toBe(400);
  });
});

describe('apps and their webhooks’ health', () => {
  it('shows a failing webhook, a held backlog and the age of the oldest undelivered event', async () => {
    const failing = await appWithWebhook({ app: { name: 'Flaky' }, subscribers: ['9101'] });
    failing.receivers.behave(failing.url, 'server-error');
    await ingest({ id: uniqueId('con'), type: 'tweet_create', tweet: { id: '9101001', text: 'hi', author: u('9101') } });
    await wait(() => expect(failing.receivers.posts(failing.url).length).toBeGreaterThan(0));

    const held = await appWithWebhook({ app: { name: 'Held' }, subscribers: ['9102'] });
    held.receivers.behave(held.url, 'wrong-token');
    expect((await call('PUT', `/2/webhooks/${held.hook.id}`, { token: held.app.bearer })).status).toBeGreaterThanOrEqual(200);
    await ingest({ id: uniqueId('con'), type: 'tweet_create', tweet: { id: '9102001', text: 'hi', author: u('9102') } });

    const { b } = await signedInOperator();
    await wait(async () => {
      const apps = await b.get('/console/apps?status=active');
      expect(part(apps.text, `app-${failing.app.id}`)).toMatch(/Flaky .* Active 1 1 /);
      const heldRow = part(apps.text, `app-${held.app.id}`);
      expect(heldRow).toMatch(/Held .* Active 1 0 1 1 \d+ s/);
    });
    const detail = await b.get(`/console/apps/${failing.app.id}`);
    expect(part(detail.text, `webhook-${failing.hook.id}`, '</article>')).toMatch(/Failing 1 failed attempt in a row .* HTTP 503/);
    expect(detail.text).not.toContain(failing.app.consumerSecret);
    expect(detail.text).not.toContain(failing.hook.signing_secret);
    // A status filter narrows the list; a bad one is a 400 naming it.
    expect((await b.get('/console/apps?status=pending')).text).not.toContain(`app-${failing.app.id}`);
    expect(pageText((await b.get('/console/apps?status=deleted')).text)).toContain('status');
  });
});

describe('user lookup and audit', () => {
  it("shows a user's access report and a stranger's empty one", async () => {
    const app = await activeApp({ name: 'Lookup App' });
    await grantUser(app.id, '9201', ['tweet.read', 'dm.read']);
    const { b } = await signedInOperator();
    const page = await b.get('/console/users?user_id=9201');
    expect(part(page.text, `access-${app.id}`, '</article>')).toMatch(/Lookup App Active .*dm\.read tweet\.read .* current/);
    expect(pageText((await b.get('/console/users?user_id=9299')).text)).toContain('never authorized an app');
    expect((await b.get('/console/users?user_id=jack')).status).toBe(400);
  });

  it('verifies a window: no violations after real deliveries, then names one planted in a ledger', async () => {
    const fx = await appWithWebhook({ app: { name: 'Audited' }, subscribers: ['9301'] });
    await ingest({ id: uniqueId('con'), type: 'tweet_create', tweet: { id: '9301001', text: 'hi', author: u('9301') } });
    await wait(() => expect(fx.receivers.posts(fx.url)).toHaveLength(1));
    const { b } = await signedInOperator();
    const form = await b.get('/console/audit');
    expect(form.text).not.toContain('data-testid="audit-result"');
    const clean = await b.get(`/console/audit?run=1&from=&to=&app_id=${fx.app.id}`);
    expect(part(clean.text, 'audit-result', '</section>')).toMatch(/1 attempt checked .*: no violations/);

    // Planted a moment ago, after the app was created (its setup can take well under a second), so the
    // only thing wrong with it is the missing subscription.
    const now = Date.now();
    await runInDurableObject(appObject(env, fx.app.id), (_o, state) => {
      state.storage.sql.exec(
        `INSERT INTO ledger (seq, delivery_id, kind, replay_job_id, ingested_at, event_id, event_type, webhook_id, for_user_id, attempt, at, status_code, error, latency_ms, outcome)
         VALUES (0, 'msg_planted', 'event', NULL, ?, 'e-planted', 'direct_message', ?, '9399', 1, ?, 200, NULL, 5, 'delivered')`,
        now - 10,
        fx.hook.id,
        now - 5,
      );
    });
    const dirty = await b.get(`/console/audit?run=1&app_id=${fx.app.id}`);
    const violations = part(dirty.text, 'violations', '</table>');
    expect(violations).toMatch(/Audited 9399 direct_message .*no subscription/);
    expect(pageText(dirty.text)).toContain('1 violation in 2 attempts checked');
    const backwards = await b.get('/console/audit?run=1&from=2026-01-02T00:00&to=2026-01-01T00:00');
    expect(backwards.status).toBe(400);
  });
});
