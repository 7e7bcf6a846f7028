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
    expect(problem.errors.map((e: any) => e.parameter).join(' ')).toContain(field);
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
