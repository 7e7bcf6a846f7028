// A small client for the service's HTTP API, used by end-to-end tests, benchmarks and fault runs.
export function client(baseUrl, platformToken) {
  async function call(method, path, { token, body, form, basic } = {}) {
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
  const expectOk = async (what, promise, status = [200, 201, 202]) => {
    const res = await promise;
    if (!status.includes(res.status)) throw new Error(`${what}: HTTP ${res.status} ${res.text}`);
    return res.body;
  };
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
    async ingest(activities) {
      return (await expectOk('ingest', platform('POST', '/internal/activity', activities.length === 1 ? activities[0] : { activities })))
        .data;
    },
    revoke: (app, userId) => expectOk('revoke', platform('DELETE', `/internal/authorizations/${app.id}/${userId}`)),
    suspend: (app) => expectOk('suspend', platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'test' })),
  };
}
