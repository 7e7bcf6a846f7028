import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createApp, issueBearer } from './support/apps';
import { call, expectProblem, PLATFORM_TOKEN, platform } from './support/http';

describe('POST /internal/apps', () => {
  it('creates a pending app and shows the consumer secret once', async () => {
    const res = await platform('POST', '/internal/apps', { name: 'Acme', description: 'bots' });
    expect(res.status).toBe(201);
    const app = res.body.data;
    expect(app).toMatchObject({ name: 'Acme', status: 'pending', max_webhooks: 5, provisioned_subscriptions: 500 });
    expect(app.id).toMatch(/^[0-9]{1,19}$/);
    expect(app.consumer_key).toMatch(/^[A-Za-z0-9]{25}$/);
    expect(app.consumer_secret).toMatch(/^aae_cs_[A-Za-z0-9_-]{43}$/);
    expect(new Date(app.created_at).toISOString()).toBe(app.created_at);

    const fetched = await platform('GET', `/internal/apps/${app.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.data.consumer_secret).toBeUndefined();
    expect(JSON.stringify(fetched.body)).not.toContain(app.consumer_secret);
  });

  it('keeps only a hash of the consumer secret in D1', async () => {
    const app = await createApp();
    const row = await env.DB.prepare('SELECT * FROM apps WHERE id = ?').bind(app.id).first();
    expect(JSON.stringify(row)).not.toContain(app.consumerSecret);
  });

  it('honours custom limits', async () => {
    const res = await platform('POST', '/internal/apps', { name: 'Big', max_webhooks: 2, provisioned_subscriptions: 10 });
    expect(res.body.data).toMatchObject({ max_webhooks: 2, provisioned_subscriptions: 10 });
  });

  it.each([
    [{}, 'name'],
    [{ name: '' }, 'name'],
    [{ name: 42 }, 'name'],
    [{ name: 'x', max_webhooks: 0 }, 'max_webhooks'],
    [{ name: 'x', max_webhooks: '5' }, 'max_webhooks'],
    [{ name: 'x', provisioned_subscriptions: 1.5 }, 'provisioned_subscriptions'],
    [{ name: 'x', nmae: 'typo' }, 'nmae'],
    [[], 'body'],
  ])('rejects %j naming %s, and creates nothing', async (body, field) => {
    const before = await env.DB.prepare('SELECT count(*) AS n FROM apps').first<{ n: number }>();
    const res = await platform('POST', '/internal/apps', body);
    const problem = expectProblem(res, 400);
    expect(problem.errors.map((e) => e.parameter).join(' ')).toContain(field);
    const after = await env.DB.prepare('SELECT count(*) AS n FROM apps').first<{ n: number }>();
    expect(after!.n).toBe(before!.n);
  });

  it('needs the platform token', async () => {
    expectProblem(await call('POST', '/internal/apps', { body: { name: 'x' } }), 401);
    expectProblem(await call('POST', '/internal/apps', { body: { name: 'x' }, token: 'aae_pt_wrong' }), 401);
    expectProblem(await call('POST', '/internal/apps', { body: { name: 'x' }, token: `${PLATFORM_TOKEN}x` }), 401);
  });

  it('does not accept a developer token on the platform surface', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    const bearer = await issueBearer(app);
    expectProblem(await call('GET', `/internal/apps/${app.id}`, { token: bearer }), 401);
  });
});

describe('app lifecycle', () => {
  it('approve activates, suspend deactivates with a reason', async () => {
    const app = await createApp();
    const approved = await platform('POST', `/internal/apps/${app.id}/approve`);
    expect(approved.body).toEqual({ data: { id: app.id, status: 'active' } });
    const suspended = await platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'abuse' });
    expect(suspended.body).toEqual({ data: { id: app.id, status: 'suspended' } });
    const fetched = await platform('GET', `/internal/apps/${app.id}`);
    expect(fetched.body.data).toMatchObject({ status: 'suspended', status_reason: 'abuse' });
  });

  it('suspension stops the app tokens at once', async () => {
    const app = await createApp();
    await platform('POST', `/internal/apps/${app.id}/approve`);
    const bearer = await issueBearer(app);
    expect((await call('GET', '/2/webhooks', { token: bearer })).status).toBe(200);
    await platform('POST', `/internal/apps/${app.id}/suspend`, { reason: 'policy' });
    expectProblem(await call('GET', '/2/webhooks', { token: bearer }), 401);
    // Re-approval does not resurrect the old token: tokens are re-issued by client credentials.
    await platform('POST', `/internal/apps/${app.id}/approve`);
    expectProblem(await call('GET', '/2/webhooks', { token: bearer }), 401);
    expect((await call('GET', '/2/webhooks', { token: await issueBearer(app) })).status).toBe(200);
  });

  it('suspend needs a reason', async () => {
    const app = await createApp();
    expectProblem(await platform('POST', `/internal/apps/${app.id}/suspend`, {}), 400);
    expect((await platform('GET', `/internal/apps/${app.id}`)).body.data.status).toBe('pending');
  });

  it('unknown and malformed app ids', async () => {
    expectProblem(await platform('GET', '/internal/apps/123456789'), 404);
    expectProblem(await platform('POST', '/internal/apps/123456789/approve'), 404);
    expectProblem(await platform('GET', '/internal/apps/abc'), 400);
  });
});

describe('GET /internal/apps', () => {
  const list = (query = '') => platform('GET', `/internal/apps${query}`);

  it('lists apps newest first, without secret material', async () => {
    const created = [await createApp({ name: 'first' }), await createApp({ name: 'second' }), await createApp({ name: 'third' })];
    const res = await list('?max_results=3');
    expect(res.status).toBe(200);
    expect(res.body.data.map((a: { id: string }) => a.id)).toEqual(created.map((a) => a.id).reverse());
    expect(res.body.data[0]).toMatchObject({ name: 'third', status: 'pending', consumer_key: created[2].consumerKey });
    expect(res.body.meta.result_count).toBe(3);
    const text = JSON.stringify(res.body);
    for (const app of created) expect(text).not.toContain(app.consumerSecret);
    expect(text).not.toMatch(/secret|hash/i);
  });

  it('filters by status', async () => {
    const pending = await createApp();
    const active = await createApp();
    await platform('POST', `/internal/apps/${active.id}/approve`);
    const suspended = await createApp();
    await platform('POST', `/internal/apps/${suspended.id}/suspend`, { reason: 'test' });
    for (const [status, app] of [
      ['pending', pending],
      ['active', active],
      ['suspended', suspended],
    ] as const) {
      const res = await list(`?status=${status}`);
      expect(res.body.data.every((a: { status: string }) => a.status === status)).toBe(true);
      expect(res.body.data.map((a: { id: string }) => a.id)).toContain(app.id);
    }
  });

  it('pages with pagination_token through every app once, and the last page has no next_token', async () => {
    for (let i = 0; i < 5; i++) await createApp({ name: `paged ${i}` });
    const all = (await list()).body.data.map((a: { id: string }) => a.id);
    expect(all.length).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const res = await list(`?max_results=2${token ? `&pagination_token=${token}` : ''}`);
      expect(res.status).toBe(200);
      expect(res.body.meta.result_count).toBe(res.body.data.length);
      seen.push(...res.body.data.map((a: { id: string }) => a.id));
      token = res.body.meta.next_token;
    } while (token);
    expect(seen).toEqual(all);
  });

  it.each([
    ['?max_results=0', 'max_results'],
    ['?max_results=101', 'max_results'],
    ['?max_results=1.5', 'max_results'],
    ['?max_results=ten', 'max_results'],
    ['?status=deleted', 'status'],
    ['?pagination_token=abc', 'pagination_token'],
    ['?statsu=active', 'statsu'],
  ])('rejects %s naming %s', async (query, parameter) => {
    const problem = expectProblem(await list(query), 400, 'QueryParamInvalid');
    expect(problem.errors.map((e: { parameter: string }) => e.parameter)).toEqual([parameter]);
    expect(problem.detail).toContain(parameter);
  });

  it('needs the platform token', async () => {
    expectProblem(await call('GET', '/internal/apps'), 401);
  });
});
