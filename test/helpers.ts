import { exports } from 'cloudflare:workers';
import { Webhook } from 'standardwebhooks';
import { vi } from 'vitest';
import { crcRequestSignature, crcResponseToken } from '../src/domain/crc';
import { hmacSha256Base64 } from '../src/domain/crypto';

export const PLATFORM_TOKEN = 'aae_pt_test-platform-token';

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the Worker as a client would. `body` objects are sent as JSON; strings are sent as-is. */
export async function call<T = any>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await exports.default.fetch(`http://127.0.0.1:8787${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies are returned as text
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

export const platform = (method: string, path: string, body?: unknown) => call(method, path, { token: PLATFORM_TOKEN, body });

export interface TestApp {
  id: string;
  consumerKey: string;
  consumerSecret: string;
  bearer: string;
}

export async function createApp(fields: Record<string, unknown> = {}): Promise<Omit<TestApp, 'bearer'>> {
  const res = await platform('POST', '/internal/apps', { name: 'test app', ...fields });
  if (res.status !== 201) throw new Error(`create app: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.id, consumerKey: res.body.data.consumer_key, consumerSecret: res.body.data.consumer_secret };
}

export const basic = (key: string, secret: string) => `Basic ${btoa(`${key}:${secret}`)}`;

export async function issueBearer(app: { consumerKey: string; consumerSecret: string }): Promise<string> {
  const res = await exports.default.fetch('http://127.0.0.1:8787/oauth2/token', {
    method: 'POST',
    headers: {
      authorization: basic(app.consumerKey, app.consumerSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const json: any = await res.json();
  if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(json)}`);
  return json.access_token;
}

/** An approved app with an app-only bearer token. */
export async function activeApp(fields: Record<string, unknown> = {}): Promise<TestApp> {
  const app = await createApp(fields);
  const approved = await platform('POST', `/internal/apps/${app.id}/approve`);
  if (approved.status !== 200) throw new Error(`approve: ${approved.status}`);
  return { ...app, bearer: await issueBearer(app) };
}

export async function grantUser(appId: string, userId: string, scopes = ['tweet.read', 'users.read', 'dm.read']) {
  const res = await platform('POST', '/internal/authorizations', { app_id: appId, user_id: userId, scopes });
  if (res.status !== 201) throw new Error(`grant: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.access_token as string;
}

export type ReceiverBehaviour = 'ok' | 'wrong-token' | 'non-json' | 'redirect' | 'server-error' | 'timeout' | 'refuse';

export interface SeenRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: string;
  at: number;
}

type PostHandler = (request: SeenRequest) => Response | Promise<Response>;

/**
 * Fake webhook receivers behind a `fetch` spy. Each URL knows the consumer secrets of the apps that
 * registered it and answers a CRC with the one whose request signature matches (as a shared endpoint
 * must), or misbehaves as told. POSTs answer 200 unless a handler says otherwise. Every request is
 * recorded.
 */
export function installReceivers() {
  const endpoints = new Map<string, { secrets: string[]; behaviour: ReceiverBehaviour; onPost?: PostHandler; pinned?: string }>();
  const seen: SeenRequest[] = [];
  const keyOf = (url: string | URL) => {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  };
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    const record: SeenRequest = { url, method: request.method, headers: request.headers, body: await request.text(), at: Date.now() };
    seen.push(record);
    const endpoint = endpoints.get(keyOf(url));
    if (!endpoint || endpoint.behaviour === 'refuse') throw new TypeError('fetch failed: connection refused');
    switch (endpoint.behaviour) {
      case 'timeout':
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      case 'server-error':
        return new Response('oops', { status: 503 });
      case 'redirect':
        return new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } });
      case 'non-json':
        return new Response('<html>hi</html>', { status: 200, headers: { 'content-type': 'text/html' } });
      case 'wrong-token':
        return Response.json({ response_token: 'sha256=AAAA' });
      case 'ok': {
        const token = url.searchParams.get('crc_token');
        if (request.method === 'GET' && token && endpoint.pinned) {
          // A receiver configured with one secret that answers without checking the request signature.
          return Response.json({ response_token: await crcResponseToken(endpoint.pinned, token) });
        }
        if (request.method === 'GET' && token) {
          const nonce = url.searchParams.get('nonce') ?? '';
          const offered = request.headers.get('x-twitter-webhooks-signature');
          for (const secret of endpoint.secrets) {
            if ((await crcRequestSignature(secret, token, nonce)) === offered) {
              return Response.json({ response_token: await crcResponseToken(secret, token) });
            }
          }
          return new Response('unknown signer', { status: 401 });
        }
        return endpoint.onPost ? endpoint.onPost(record) : new Response(null, { status: 200 });
      }
    }
  });
  return {
    spy,
    seen,
    /** Adds `secret` (an app's consumer secret) to the endpoint at `url` (query ignored). */
    set(url: string, secret: string, behaviour: ReceiverBehaviour = 'ok') {
      const existing = endpoints.get(keyOf(url));
      endpoints.set(keyOf(url), { secrets: [...(existing?.secrets ?? []), secret], behaviour, onPost: existing?.onPost });
    },
    behave(url: string, behaviour: ReceiverBehaviour) {
      endpoints.get(keyOf(url))!.behaviour = behaviour;
    },
    /** The endpoint answers every CRC with this one secret, as a receiver that was never updated would. */
    pin(url: string, secret: string | undefined) {
      endpoints.get(keyOf(url))!.pinned = secret;
    },
    onPost(url: string, handler: PostHandler | undefined) {
      endpoints.get(keyOf(url))!.onPost = handler;
    },
    /** Deliveries (POSTs) that reached `url`. */
    posts(url: string) {
      return seen.filter((r) => r.method === 'POST' && keyOf(r.url) === keyOf(url));
    },
  };
}
export type Receivers = ReturnType<typeof installReceivers>;

/**
 * Which of `webhooks` this POST was signed for: exactly one must verify the Standard Webhooks signature
 * (its own `whsec_` key), and the X signature must verify with that webhook's app secret and no other.
 */
export async function signerOf(post: SeenRequest, webhooks: { name: string; consumerSecret: string; signingSecret: string }[]) {
  const standard = webhooks.filter((w) => {
    try {
      new Webhook(w.signingSecret).verify(post.body, Object.fromEntries(post.headers));
      return true;
    } catch {
      return false;
    }
  });
  if (standard.length !== 1) throw new Error(`Standard Webhooks signature matches ${standard.length} known webhooks`);
  const xSig = post.headers.get('x-twitter-webhooks-signature');
  const secrets = [...new Set(webhooks.map((w) => w.consumerSecret))];
  const xMatches = [];
  for (const secret of secrets) {
    if (xSig === `sha256=${await hmacSha256Base64(secret, post.body)}`) xMatches.push(secret);
  }
  if (xMatches.length !== 1 || xMatches[0] !== standard[0].consumerSecret) {
    throw new Error(`X signature does not belong to the app of ${standard[0].name}`);
  }
  return standard[0].name;
}

export async function registerWebhook(app: TestApp, url: string) {
  const res = await call('POST', '/2/webhooks', { token: app.bearer, body: { url } });
  if (res.status !== 200) throw new Error(`register webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { id: string; url: string; valid: boolean; created_at: string; signing_secret: string };
}
export function expectProblem(res: ApiResponse, status: number, reason?: string) {
  const problem = res.body;
  const ok =
    res.status === status &&
    res.headers.get('content-type')?.startsWith('application/problem+json') &&
    typeof problem?.type === 'string' &&
    problem.status === status &&
    typeof problem.title === 'string' &&
    typeof problem.detail === 'string' &&
    (reason === undefined || problem.reason === reason);
  if (!ok) {
    throw new Error(`expected problem ${status}${reason ? ` ${reason}` : ''}, got ${res.status} ${JSON.stringify(problem)}`);
  }
  return problem;
}

export const testUser = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  name: `User ${id}`,
  screen_name: `user${id}`,
  ...extra,
});

export async function subscribe(app: TestApp, webhookId: string, userId: string, scopes?: string[]) {
  const token = await grantUser(app.id, userId, scopes);
  const res = await call('POST', `/2/account_activity/webhooks/${webhookId}/subscriptions/all`, { token, body: {} });
  if (res.status !== 200) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  return token;
}

export async function ingest(...activities: Record<string, unknown>[]) {
  const res = await platform('POST', '/internal/activity', activities.length === 1 ? activities[0] : { activities });
  if (res.status !== 202) throw new Error(`ingest: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data as { accepted: number; event_ids: string[]; duplicates: number };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Moves one app's whole history `ms` into the past, in D1 and in its object alike, so tests can ask
 * about windows that lie in the past (replay dates have minute granularity and must not be future).
 */
export async function ageApp(appId: string, ms: number) {
  const { env } = await import('cloudflare:workers');
  const { runInDurableObject } = await import('cloudflare:test');
  const { appObject } = await import('../src/delivery/app-objects');
  await env.DB.batch([
    env.DB.prepare('UPDATE app_status_history SET at = at - ? WHERE app_id = ?').bind(ms, appId),
    env.DB.prepare('UPDATE webhooks SET created_at = created_at - ? WHERE app_id = ?').bind(ms, appId),
    env.DB.prepare('UPDATE subscriptions SET created_at = created_at - ?, ended_at = ended_at - ? WHERE app_id = ?').bind(ms, ms, appId),
    env.DB.prepare('UPDATE authorizations SET created_at = created_at - ?, ended_at = ended_at - ? WHERE app_id = ?').bind(ms, ms, appId),
  ]);
  await runInDurableObject(appObject(env, appId), (_o, state) => {
    const sql = state.storage.sql;
    sql.exec('UPDATE webhooks SET created_at = created_at - ?', ms);
    sql.exec('UPDATE subscriptions SET started_at = started_at - ?, ended_at = ended_at - ?', ms, ms);
    sql.exec('UPDATE authorizations SET started_at = started_at - ?, ended_at = ended_at - ?', ms, ms);
    sql.exec('UPDATE messages SET created_at = created_at - ?', ms);
    sql.exec('UPDATE ledger SET at = at - ?, ingested_at = ingested_at - ?', ms, ms);
    sql.exec('UPDATE events SET ingested_at = ingested_at - ?', ms);
  });
}

/** `yyyymmddhhmm` (UTC) of a time, as X's replay endpoints take it. */
export const replayDate = (ms: number) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);

/** The usual fixture: fake receivers, an active app, and one webhook of it at `url` that passed its CRC. */
export async function appWithWebhook(url: string, fields: Record<string, unknown> = {}) {
  const receivers = installReceivers();
  const app = await activeApp(fields);
  receivers.set(url, app.consumerSecret);
  const hook = await registerWebhook(app, url);
  return { receivers, app, hook, url };
}
