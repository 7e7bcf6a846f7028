import { exports } from 'cloudflare:workers';
import { activeApp, type TestApp } from './apps';
import { platform } from './http';

export const ORIGIN = 'http://127.0.0.1:8787';
export const REDIRECT_URI = 'https://app.example/callback';

export interface OAuthTestApp extends TestApp {
  redirectUri: string;
}

/** Registers an existing app as an OAuth client (confidential unless said otherwise). */
export async function registerClient<A extends TestApp>(
  app: A,
  options: { clientType?: 'confidential' | 'public'; redirectUris?: string[] } = {},
): Promise<A & { redirectUri: string }> {
  const redirectUris = options.redirectUris ?? [REDIRECT_URI];
  const res = await platform('PUT', `/internal/apps/${app.id}/oauth2-client`, {
    client_type: options.clientType ?? 'confidential',
    redirect_uris: redirectUris,
  });
  if (res.status !== 200) throw new Error(`register client: ${res.status} ${JSON.stringify(res.body)}`);
  return { ...app, redirectUri: redirectUris[0] };
}

/** An approved app registered as an OAuth client. */
export async function oauthApp(
  options: { clientType?: 'confidential' | 'public'; redirectUris?: string[]; name?: string; description?: string } = {},
): Promise<OAuthTestApp> {
  const app = await activeApp({ name: options.name ?? 'Acme Reader', description: options.description ?? 'Reads your timeline' });
  return registerClient(app, options);
}

const base64url = (bytes: ArrayBuffer | Uint8Array) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

/** A PKCE pair (RFC 7636 S256). */
export async function pkce() {
  const verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return { verifier, challenge };
}

export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
  location: string | null;
}

/**
 * A browser as far as the pages care: a cookie jar, redirects not followed (each step is asserted),
 * same-origin form posts with an Origin header as browsers send.
 */
export function browser(origin = ORIGIN) {
  const jar = new Map<string, string>();
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  async function request(method: string, path: string, init: { form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    const url = path.startsWith('http') ? path : `${origin}${path}`;
    const headers: Record<string, string> = { ...init.headers };
    if (jar.size) headers.cookie = cookieHeader();
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin ??= origin;
      body = new URLSearchParams(init.form).toString();
    }
    const res = await exports.default.fetch(url, { method, headers, body, redirect: 'manual' });
    for (const line of res.headers.getAll('set-cookie')) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, location: res.headers.get('location') } satisfies PageResponse;
  }
  return {
    jar,
    get: (path: string, headers?: Record<string, string>) => request('GET', path, { headers }),
    post: (path: string, form: Record<string, string>, headers?: Record<string, string>) => request('POST', path, { form, headers }),
  };
}
export type Browser = ReturnType<typeof browser>;

/** A hidden form field's value in a page. */
export function hiddenField(html: string, name: string): string {
  const match = html.match(new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`));
  if (!match) throw new Error(`no hidden field ${name} in the page:\n${html.slice(0, 2000)}`);
  return match[1]
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>');
}

/** Signs the browser in as `userId` through the development login, starting from `path` (which needs a session). */
export async function signIn(b: Browser, userId: string, path = '/i/connected_apps'): Promise<PageResponse> {
  const start = await b.get(path);
  if (start.status !== 302 || !start.location) throw new Error(`expected a sign-in redirect from ${path}, got ${start.status}`);
  const login = await b.get(start.location);
  if (login.status !== 200) throw new Error(`dev login page: ${login.status} ${login.text.slice(0, 500)}`);
  const back = await b.post('/i/session/dev-login', {
    user_id: userId,
    return_to: hiddenField(login.text, 'return_to'),
    nonce: hiddenField(login.text, 'nonce'),
  });
  const callback = await b.get(back.location!);
  if (callback.status !== 303) throw new Error(`callback: ${callback.status} ${callback.text.slice(0, 500)}`);
  return b.get(callback.location!);
}

export function authorizeUrl(app: { consumerKey: string; redirectUri: string }, params: Record<string, string | undefined>) {
  const query = new URLSearchParams();
  const defaults: Record<string, string> = {
    response_type: 'code',
    client_id: app.consumerKey,
    redirect_uri: app.redirectUri,
    scope: 'tweet.read users.read offline.access',
    state: 'state-123',
    code_challenge_method: 'S256',
  };
  // A parameter given as undefined keeps its default; one given as '' is left out (a missing parameter).
  for (const [k, v] of Object.entries({ ...defaults, ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined)) })) {
    if (v !== '') query.set(k, v as string);
  }
  return `/i/oauth2/authorize?${query}`;
}

/** The whole browser part: the consent page for `userId`, then the decision; answers where the browser was sent. */
export async function consent(
  b: Browser,
  app: OAuthTestApp,
  options: { scope?: string; state?: string; challenge: string; decision?: 'authorize' | 'cancel' },
) {
  const page = await b.get(authorizeUrl(app, { scope: options.scope, state: options.state, code_challenge: options.challenge }));
  if (page.status !== 200) throw new Error(`consent page: ${page.status} ${page.location ?? page.text.slice(0, 500)}`);
  const decided = await b.post('/i/oauth2/authorize', {
    consent: hiddenField(page.text, 'consent'),
    csrf: hiddenField(page.text, 'csrf'),
    decision: options.decision ?? 'authorize',
  });
  if (decided.status !== 303 || !decided.location) throw new Error(`decision: ${decided.status} ${decided.text.slice(0, 500)}`);
  return { page, location: new URL(decided.location) };
}

/** POST /2/oauth2/token as a client would: form body, Basic for a confidential client. */
export async function tokenRequest(fields: Record<string, string>, basic?: { key: string; secret: string }) {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (basic) headers.authorization = `Basic ${btoa(`${encodeURIComponent(basic.key)}:${encodeURIComponent(basic.secret)}`)}`;
  const res = await exports.default.fetch(`${ORIGIN}/2/oauth2/token`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields).toString(),
  });
  // biome-ignore lint/suspicious/noExplicitAny: bodies are read loosely; each test asserts what it relies on
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

/** A signed-in user's code exchanged for tokens: the usual start of a token test. */
export async function tokensFor(app: OAuthTestApp, userId: string, scope = 'tweet.read users.read offline.access') {
  const b = browser();
  await signIn(b, userId);
  const { verifier, challenge } = await pkce();
  const { location } = await consent(b, app, { scope, challenge });
  const code = location.searchParams.get('code')!;
  const res = await tokenRequest(
    { grant_type: 'authorization_code', code, redirect_uri: app.redirectUri, code_verifier: verifier },
    { key: app.consumerKey, secret: app.consumerSecret },
  );
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
  return { browser: b, tokens: res.body, code, verifier };
}
