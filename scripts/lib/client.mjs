// A small client for the service's HTTP API, used by end-to-end tests, benchmarks and fault runs.

/**
 * One answer: its status, its body parsed as JSON (null if it is not JSON), the text and the headers.
 * @typedef {{ status: number, body: any, text: string, headers: Headers }} Answer
 */

/**
 * An approved app with a fresh bearer token, and a webhook as POST /2/webhooks returned it.
 * @typedef {{ id: string, name: string, consumerKey: string, consumerSecret: string, bearer: string }} App
 * @typedef {{ id: string, url: string, valid: boolean, created_at: string, signing_secret: string }} Webhook
 */

/**
 * The client. (A typedef, not the inferred type of an object literal: in JS files those are open, so
 * a misspelt method would type-check.)
 * @typedef {object} Client
 * @property {(method: string, path: string, options?: CallOptions) => Promise<Answer>} call any request
 * @property {(method: string, path: string, body?: unknown) => Promise<Answer>} platform a request with the platform token
 * @property {(name: string, fields?: object) => Promise<App>} activeApp creates and approves an app, with a bearer token
 * @property {(app: App, url: string) => Promise<Webhook>} registerWebhook
 * @property {(app: App, userId: string, scopes: string[]) => Promise<string>} grant the user's access token for the app
 * @property {(app: App, webhookId: string, userId: string, scopes: string[]) => Promise<string>} subscribe
 *   grants and subscribes; the user's access token
 * @property {(activities: object[]) => Promise<any>} ingest posts activities, sending again after a 503
 * @property {number} ingestRetries ingest requests sent again so far
 * @property {(app: App, userId: string) => Promise<any>} revoke
 * @property {(app: App) => Promise<any>} suspend
 */

/** @typedef {{ token?: string, body?: unknown, form?: Record<string, string>, basic?: [string, string] }} CallOptions */

/**
 * @param {string} baseUrl
 * @param {string} platformToken
 * @returns {Client}
 */
export function client(baseUrl, platformToken) {
  /**
   * @param {string} method
   * @param {string} path
   * @param {CallOptions} [options]
   * @returns {Promise<Answer>}
   */
  async function call(method, path, { token, body, form, basic } = {}) {
    /** @type {Record<string, string>} */
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (basic) headers.authorization = `Basic ${Buffer.from(`${basic[0]}:${basic[1]}`).toString('base64')}`;
    let payload;
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      payload = JSON.stringify(body);
    } else if (form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      payload = new URLSearchParams(form).toString();
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, body: payload, signal: AbortSignal.timeout(60_000) });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, body: json, text, headers: res.headers };
  }
  /**
   * The JSON body of an answer with one of `status`, else an error naming `what` and the answer.
   * @param {string} what @param {Promise<Answer>} promise @param {number[]} [status]
   */
  const expectOk = async (what, promise, status = [200, 201, 202]) => {
    const res = await promise;
    if (!status.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.text}`);
    return res.body;
  };
  /** A call with the platform token. @param {string} method @param {string} path @param {unknown} [body] */
  const platform = (method, path, body) => call(method, path, { token: platformToken, body });

  return {
    call,
    platform,
    async activeApp(name, fields = {}) {
      const created = (await expectOk('create app', platform('POST', '/internal/apps', { name, ...fields }))).data;
      await expectOk('approve', platform('POST', `/internal/apps/${created.id}/approve`));
      const token = await expectOk(
        'token',
        call('POST', '/oauth2/token', {
          basic: [created.consumer_key, created.consumer_secret],
          form: { grant_type: 'client_credentials' },
        }),
      );
      return {
        id: created.id,
        name,
        consumerKey: created.consumer_key,
        consumerSecret: created.consumer_secret,
        bearer: token.access_token,
      };
    },
    async registerWebhook(app, url) {
      return (await expectOk(`register ${url}`, call('POST', '/2/webhooks', { token: app.bearer, body: { url } }))).data;
    },
    async grant(app, userId, scopes) {
      return (await expectOk('grant', platform('POST', '/internal/authorizations', { app_id: app.id, user_id: userId, scopes }))).data
        .access_token;
    },
    async subscribe(app, webhookId, userId, scopes) {
      const token = await this.grant(app, userId, scopes);
      await expectOk('subscribe', call('POST', `/2/account_activity/webhooks/${webhookId}/subscriptions/all`, { token, body: {} }));
      return token;
    },
    /**
     * Posts activities as a platform should: ingest is idempotent by activity id, so an answer of 503
     * (the runtime restarted mid-request; locally that happens when workerd resets an isolate crowded
     * with hundreds of objects) is retried, up to three times, and counted in `ingestRetries`.
     */
    async ingest(activities) {
      const body = activities.length === 1 ? activities[0] : { activities };
      for (let attempt = 1; ; attempt++) {
        const res = await platform('POST', '/internal/activity', body);
        if (res.status === 503 && attempt < 4) {
          this.ingestRetries++;
          continue;
        }
        return (await expectOk('ingest', Promise.resolve(res))).data;
      }
    },
    ingestRetries: 0,
    revoke: (app, userId) => expectOk('revoke', platform('DELETE', `/internal/authorizations/${app.id}/${userId}`)),
    suspend: (app) => expectOk('suspend', platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'test' })),
  };
}
