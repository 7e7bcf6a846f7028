import { exports } from 'cloudflare:workers';
import { basic, call, platform } from './http';

export interface TestApp {
  id: string;
  consumerKey: string;
  consumerSecret: string;
  bearer: string;
}

/** What POST /2/webhooks answers (the signing secret is shown this once). */
export interface RegisteredWebhook {
  id: string;
  url: string;
  valid: boolean;
  created_at: string;
  signing_secret: string;
}

/** A pending app (POST /internal/apps). */
export async function createApp(fields: Record<string, unknown> = {}): Promise<Omit<TestApp, 'bearer'>> {
  const res = await platform('POST', '/internal/apps', { name: 'test app', ...fields });
  if (res.status !== 201) throw new Error(`create app: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.data.id, consumerKey: res.body.data.consumer_key, consumerSecret: res.body.data.consumer_secret };
}

/** An app-only bearer token by client credentials. */
export async function issueBearer(app: { consumerKey: string; consumerSecret: string }): Promise<string> {
  const res = await exports.default.fetch('http://127.0.0.1:8787/oauth2/token', {
    method: 'POST',
    headers: {
      authorization: basic(app.consumerKey, app.consumerSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
  const json = (await res.json()) as { access_token: string };
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

/** The user authorizes the app (as the platform reports a consent); returns the user access token. */
export async function grantUser(appId: string, userId: string, scopes = ['tweet.read', 'users.read', 'dm.read']) {
  const res = await platform('POST', '/internal/authorizations', { app_id: appId, user_id: userId, scopes });
  if (res.status !== 201) throw new Error(`grant: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.access_token as string;
}

/** Registers a webhook; its receiver must answer the CRC (see receivers.ts). */
export async function registerWebhook(app: TestApp, url: string): Promise<RegisteredWebhook> {
  const res = await call('POST', '/2/webhooks', { token: app.bearer, body: { url } });
  if (res.status !== 200) throw new Error(`register webhook: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data;
}

/** Grants `userId` the scopes and subscribes them to the webhook; returns the user access token. */
export async function subscribe(app: TestApp, webhookId: string, userId: string, scopes?: string[]) {
  const token = await grantUser(app.id, userId, scopes);
  const res = await call('POST', `/2/account_activity/webhooks/${webhookId}/subscriptions/all`, { token, body: {} });
  if (res.status !== 200) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`);
  return token;
}
