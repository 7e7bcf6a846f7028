import { exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { ROUTERS } from '../src/app';
import { activeApp } from './support/apps';
import { call, expectProblem, platform } from './support/http';

describe('errors are problem bodies, with a request id everywhere', () => {
  it('unknown routes', async () => {
    const res = await call('GET', '/nope');
    const problem = expectProblem(res, 404);
    expect(problem.type).toBe('http://127.0.0.1:8787/problems/not-found');
    expect(res.headers.get('x-request-id')).toBeTruthy();
  });

  it('the problem type URI resolves to an explanation', async () => {
    const res = await call('GET', '/problems/invalid-request');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe(400);
  });

  it('wrong methods get 405 with Allow', async () => {
    const app = await activeApp();
    const res = await call('PATCH', '/2/webhooks', { token: app.bearer });
    expectProblem(res, 405);
    expect(res.headers.get('allow')).toContain('GET');
    expect(res.headers.get('allow')).toContain('POST');
  });

  it('malformed JSON', async () => {
    const res = await platform('POST', '/internal/apps', '{"name": ');
    expect(expectProblem(res, 400).detail).toContain('not valid JSON');
  });

  it('wrong content type', async () => {
    const res = await call('POST', '/internal/apps', {
      token: 'aae_pt_test-platform-token',
      body: 'name=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(res, 415);
  });

  it('oversize bodies, declared or streamed', async () => {
    const big = JSON.stringify({ name: 'x', description: 'a'.repeat(70 * 1024) });
    expectProblem(await platform('POST', '/internal/apps', big), 413);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const res = await exports.default.fetch('http://127.0.0.1:8787/internal/apps', {
      method: 'POST',
      headers: { authorization: 'Bearer aae_pt_test-platform-token', 'content-type': 'application/json' },
      body: stream,
      // @ts-expect-error workerd needs duplex for streamed request bodies
      duplex: 'half',
    });
    expect(res.status).toBe(413);
  });

  it('keeps a client-supplied request id', async () => {
    const res = await call('GET', '/nope', { headers: { 'x-request-id': 'client-trace-1' } });
    expect(res.headers.get('x-request-id')).toBe('client-trace-1');
  });
});

describe('routing', () => {
  it('gives each path prefix one router: no mounted prefix lies inside another', () => {
    const prefixes = Object.keys(ROUTERS);
    const nested = prefixes.flatMap((outer) =>
      prefixes.filter((inner) => inner.startsWith(`${outer}/`)).map((inner) => `${inner} in ${outer}`),
    );
    expect(nested).toEqual([]);
  });
});
