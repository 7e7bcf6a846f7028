import { exports } from 'cloudflare:workers';
import { vi } from 'vitest';
import { crcResponseToken } from '../src/domain/crc';

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

export const platform = (method: string, path: string, body?: unknown) =>
  call(method, path, { token: PLATFORM_TOKEN, body });

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
}

/**
 * Fake webhook receivers behind a `fetch` spy: each URL answers the CRC with the secret it was given
 * (as a correct X receiver does), or misbehaves as told. Every request is recorded.
 */
export function installReceivers() {
  const endpoints = new Map<string, { secret: string; behaviour: ReceiverBehaviour }>();
  const seen: SeenRequest[] = [];
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (input, init) => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    seen.push({ url, method: request.method, headers: request.headers, body: await request.text() });
    const endpoint = endpoints.get(`${url.origin}${url.pathname}`);
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
        if (request.method === 'GET' && token) {
          return Response.json({ response_token: await crcResponseToken(endpoint.secret, token) });
        }
        return new Response(null, { status: 200 });
      }
    }
  });
  return {
    spy,
    seen,
    /** `url` without query; `secret` is the consumer secret of the app that registers it. */
    set(url: string, secret: string, behaviour: ReceiverBehaviour = 'ok') {
      const u = new URL(url);
      endpoints.set(`${u.origin}${u.pathname}`, { secret, behaviour });
    },
    behave(url: string, behaviour: ReceiverBehaviour) {
      const u = new URL(url);
      const key = `${u.origin}${u.pathname}`;
      endpoints.set(key, { ...endpoints.get(key)!, behaviour });
    },
  };
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
