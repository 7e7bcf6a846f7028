import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { hiddenField } from './support/oauth';

/**
 * Sign-in as a platform runs it: its own sign-in page (LOGIN_URL) and its own keys. The service is
 * called with these settings directly (the pool's Worker runs with the development login instead).
 */
const LOGIN_URL = 'https://accounts.platform.example/signin';
let platformKey: CryptoKey;
let platformJwk: JWK;
let strangerKey: CryptoKey;

beforeAll(async () => {
  const pair = await generateKeyPair('ES256', { extractable: true });
  platformKey = pair.privateKey;
  platformJwk = { ...(await exportJWK(pair.publicKey)), kid: 'platform-1', alg: 'ES256', use: 'sig' };
  strangerKey = (await generateKeyPair('ES256')).privateKey;
});

type Vars = Record<string, string>;
const platformVars = (): Vars => ({ LOGIN_URL, LOGIN_ASSERTION_KEYS: JSON.stringify({ keys: [platformJwk] }), DEV_LOGIN: 'false' });

/** A browser against the service with `vars` over the pool's settings, on `origin`. */
function client(vars: Vars, origin = 'https://aae.example') {
  const jar = new Map<string, string>();
  const worker = createApp();
  const setCookies: string[] = [];
  async function send(method: string, path: string, form?: Record<string, string>) {
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = origin;
      body = new URLSearchParams(form).toString();
    }
    const ctx = createExecutionContext();
    const res = await worker.fetch(
      new Request(path.startsWith('http') ? path : `${origin}${path}`, { method, headers, body, redirect: 'manual' }),
      { ...env, ...vars },
      ctx,
    );
    await waitOnExecutionContext(ctx);
    for (const line of res.headers.getAll('set-cookie')) {
      setCookies.push(line);
      const [pair] = line.split(';');
      const [name, value] = [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)];
      if (value) jar.set(name, value);
      else jar.delete(name);
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
  }
  return {
    jar,
    setCookies,
    get: (path: string) => send('GET', path),
    post: (path: string, form: Record<string, string>) => send('POST', path, form),
  };
}

/** The assertion a platform's sign-in page sends back; `override` changes claims or the key. */
async function assertion(
  claims: { sub?: string; nonce?: string; aud?: string; iat?: number; exp?: number; iss?: string },
  key: CryptoKey = platformKey,
  header: Record<string, string> = { alg: 'ES256', kid: 'platform-1' },
) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ nonce: claims.nonce })
    .setProtectedHeader(header as { alg: string })
    .setSubject(claims.sub ?? '300')
    .setAudience(claims.aud ?? 'https://aae.example')
    .setIssuedAt(claims.iat ?? now)
    .setExpirationTime(claims.exp ?? now + 120);
  if (claims.iss) jwt.setIssuer(claims.iss);
  return jwt.sign(key);
}

/** Starts a sign-in at the Connected apps page: the platform is asked with return_to and a nonce. */
async function startSignIn(b: ReturnType<typeof client>) {
  const start = await b.get('/i/connected_apps');
  expect(start.status).toBe(302);
  const login = new URL(start.location!);
  expect(`${login.origin}${login.pathname}`).toBe(LOGIN_URL);
  expect(login.searchParams.get('return_to')).toBe('https://aae.example/i/session/callback');
  return login.searchParams.get('nonce')!;
}

const callback = (token: string) => `/i/session/callback?assertion=${encodeURIComponent(token)}`;

describe("sign-in through the platform's assertion", () => {
  it('signs the browser in with a session cookie that is signed, HttpOnly, Secure and SameSite, then goes back', async () => {
    const b = client(platformVars());
    const nonce = await startSignIn(b);
    const loginCookie = b.setCookies.find((c) => c.startsWith('__Host-aae_login='))!;
    expect(loginCookie).toMatch(/HttpOnly/);
    expect(loginCookie).toMatch(/Secure/);
    const back = await b.get(callback(await assertion({ nonce })));
    expect(back.status).toBe(303);
    expect(back.location).toBe('/i/connected_apps');
    const session = b.setCookies.find((c) => c.startsWith('__Host-aae_session=') && !c.startsWith('__Host-aae_session=;'))!;
    for (const attribute of ['HttpOnly', 'Secure', 'SameSite=Lax', 'Path=/', 'Max-Age=43200']) expect(session).toContain(attribute);
    const page = await b.get('/i/connected_apps');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<strong>300</strong>');
  });

  it.each([
    ['signed by a key the platform did not configure (forged)', async (nonce: string) => assertion({ nonce }, strangerKey), 'signature'],
    ['for another service', async (nonce: string) => assertion({ nonce, aud: 'https://other.example' }), '"aud"'],
    ['expired', async (nonce: string) => assertion({ nonce, exp: Math.floor(Date.now() / 1000) - 120 }), 'expired'],
    [
      'issued too long ago',
      async (nonce: string) => assertion({ nonce, iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) + 60 }),
      'more than 5 minutes ago',
    ],
    ['for another sign-in (nonce)', async () => assertion({ nonce: 'someone-elses-nonce-0123456789' }), 'nonce'],
    ['without a nonce', async () => assertion({}), 'nonce'],
    ['naming a user that is not a numeric id', async (nonce: string) => assertion({ nonce, sub: 'admin' }), 'sub'],
    [
      'signed with the development key while the development login is off',
      async (nonce: string) => {
        const { purposeKey } = await import('../src/auth/session');
        return assertion({ nonce, iss: 'aae-dev-login' }, (await purposeKey(env, 'dev-login')) as unknown as CryptoKey, {
          alg: 'HS256',
          kid: 'aae-dev-login',
        });
      },
      'development login',
    ],
    [
      'unsigned (alg none)',
      async (nonce: string) => {
        const enc = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_');
        return `${enc({ alg: 'none', kid: 'platform-1' })}.${enc({ sub: '300', aud: 'https://aae.example', nonce, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 60 })}.`;
      },
      'algorithm',
    ],
    ['not a JWT at all', async () => 'hello', 'JWT'],
  ])('refuses an assertion %s, and signs nobody in', async (_what, make, why) => {
    const b = client(platformVars());
    const nonce = await startSignIn(b);
    const res = await b.get(callback(await make(nonce)));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text.replace(/&quot;/g, '"')).toContain(why);
    expect([...b.jar.keys()]).not.toContain('__Host-aae_session');
    expect((await b.get('/i/connected_apps')).status).toBe(302);
  });

  it('checks the issuer when one is configured', async () => {
    const b = client({ ...platformVars(), LOGIN_ASSERTION_ISSUER: 'https://accounts.platform.example' });
    const nonce = await startSignIn(b);
    expect((await b.get(callback(await assertion({ nonce })))).status).toBe(400);
    const nonce2 = await startSignIn(b);
    expect((await b.get(callback(await assertion({ nonce: nonce2, iss: 'https://accounts.platform.example' })))).status).toBe(303);
  });

  it('accepts an assertion only in the browser that started the sign-in, and only once (no login CSRF, no replay)', async () => {
    const victim = client(platformVars());
    const attacker = client(platformVars());
    const nonce = await startSignIn(attacker);
    const token = await assertion({ nonce, sub: '666' });
    // The attacker's assertion, opened in the victim's browser: the victim never started that sign-in.
    expect((await victim.get(callback(token))).status).toBe(400);
    await startSignIn(victim);
    expect((await victim.get(callback(token))).status).toBe(400);
    // In the attacker's own browser it works once; the same link again is refused.
    expect((await attacker.get(callback(token))).status).toBe(303);
    expect((await attacker.get(callback(token))).status).toBe(400);
  });

  it('treats a tampered session cookie as signed out', async () => {
    const b = client(platformVars());
    const nonce = await startSignIn(b);
    await b.get(callback(await assertion({ nonce })));
    const value = b.jar.get('__Host-aae_session')!;
    const [h, p, s] = value.split('.');
    const claims = JSON.parse(atob(p.replace(/-/g, '+').replace(/_/g, '/')));
    const forged = btoa(JSON.stringify({ ...claims, sub: '1' }))
      .replace(/=+$/, '')
      .replace(/\+/g, '-')
      .replace(/\//g, '_');
    b.jar.set('__Host-aae_session', `${h}.${forged}.${s}`);
    expect((await b.get('/i/connected_apps')).status).toBe(302);
  });

  it('answers 503 naming the setting when sign-in is not configured', async () => {
    const b = client({ DEV_LOGIN: 'false', LOGIN_URL: '' });
    const res = await b.get('/i/connected_apps');
    expect(res.status).toBe(503);
    expect(res.text).toContain('LOGIN_URL');
    const keyless = client({ LOGIN_URL, LOGIN_ASSERTION_KEYS: 'not json', DEV_LOGIN: 'false' });
    const nonce = await startSignIn(keyless);
    const refused = await keyless.get(callback(await assertion({ nonce })));
    expect(refused.status).toBe(503);
    expect(refused.text).toContain('LOGIN_ASSERTION_KEYS');
  });

  it('signs out: the session cookie is cleared', async () => {
    const b = client(platformVars());
    const nonce = await startSignIn(b);
    await b.get(callback(await assertion({ nonce })));
    const page = await b.get('/i/connected_apps');
    const out = await b.post('/i/session/logout', { csrf: hiddenField(page.text, 'csrf') });
    expect(out.status).toBe(200);
    expect(out.text).toContain('You are signed out');
    expect((await b.get('/i/connected_apps')).status).toBe(302);
  });
});

describe('the development login', () => {
  it('exists only when DEV_LOGIN is on, and only on a loopback host', async () => {
    const query = '?return_to=http%3A%2F%2F127.0.0.1%3A8787%2Fi%2Fsession%2Fcallback&nonce=abcdefghijklmnopqrstuvwx';
    const on = client({ DEV_LOGIN: 'true' }, 'http://127.0.0.1:8787');
    expect((await on.get(`/i/session/dev-login${query}`)).status).toBe(200);
    const off = client({ DEV_LOGIN: 'false' }, 'http://127.0.0.1:8787');
    expect((await off.get(`/i/session/dev-login${query}`)).status).toBe(404);
    expect((await off.post('/i/session/dev-login', { user_id: '1', return_to: 'x', nonce: 'y' })).status).toBe(404);
    const public_ = client({ DEV_LOGIN: 'true' }, 'https://aae.example');
    expect((await public_.get(`/i/session/dev-login${query}`)).status).toBe(404);
    // With it on, a sign-in on a public host still goes to the platform's page, never to the development one.
    expect((await public_.get('/i/connected_apps')).status).toBe(503);
  });

  it('only ever sends the browser back to this service (no open redirect)', async () => {
    const b = client({ DEV_LOGIN: 'true' }, 'http://127.0.0.1:8787');
    const start = await b.get('/i/connected_apps');
    const nonce = new URL(start.location!).searchParams.get('nonce')!;
    for (const return_to of ['https://evil.example/i/session/callback', 'http://127.0.0.1:8787/i/connected_apps', '//evil.example']) {
      expect((await b.post('/i/session/dev-login', { user_id: '1', return_to, nonce })).status).toBe(400);
      expect((await b.get(`/i/session/dev-login?return_to=${encodeURIComponent(return_to)}&nonce=${nonce}`)).status).toBe(400);
    }
    const ok = await b.post('/i/session/dev-login', { user_id: '301', return_to: 'http://127.0.0.1:8787/i/session/callback', nonce });
    expect(ok.status).toBe(303);
    expect(ok.location).toMatch(/^http:\/\/127\.0\.0\.1:8787\/i\/session\/callback\?assertion=/);
    const back = await b.get(ok.location!);
    expect(back.location).toBe('/i/connected_apps');
    // Plain http on loopback: the one place cookies are not Secure (and not __Host-).
    expect(b.setCookies.find((c) => c.startsWith('aae_session=') && !c.startsWith('aae_session=;'))).not.toMatch(/Secure/);
  });
});
