import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { testUser as u } from './support/activities';
import { expectProblem, platform } from './support/http';

const count = async () => (await env.DB.prepare('SELECT count(*) AS n FROM activities').first<{ n: number }>())!.n;

describe('size and shape limits', () => {
  it('refuses JSON nested deeper than 32 levels, naming where', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { d: deep };
    const res = await platform('POST', '/internal/apps', { name: 'x', description: 'y', extra: deep });
    const problem = expectProblem(res, 400);
    expect(problem.detail).toContain('nested deeper than 32');
    // Deep arrays too, and on the ingest endpoint.
    let arr: unknown = [];
    for (let i = 0; i < 100; i++) arr = [arr];
    expectProblem(await platform('POST', '/internal/activity', { activities: arr }), 400);
  });

  it('refuses a single string longer than 64 KiB', async () => {
    const res = await platform('POST', '/internal/activity', {
      id: 'long',
      type: 'tweet_create',
      tweet: { id: '1', text: 'x', author: u('1', { bio: 'b'.repeat(70 * 1024) }) },
    });
    const problem = expectProblem(res, 400);
    expect(problem.errors[0].parameter).toBe('body.tweet.author.bio');
  });

  it('refuses at ingest an activity whose payload would not fit one queue message (128 KB), accepting nothing', async () => {
    const before = await count();
    const fat = (id: string) => ({
      id,
      type: 'tweet_create',
      tweet: { id: '1', text: 'x', author: u('1', { a: 'a'.repeat(60_000), b: 'b'.repeat(60_000), c: 'c'.repeat(20_000) }) },
    });
    const res = await platform('POST', '/internal/activity', {
      activities: [{ ...fat('ok'), tweet: { id: '2', text: 'small', author: u('1') } }, fat('fat')],
    });
    const problem = expectProblem(res, 413);
    expect(problem.errors[0].parameter).toBe('activities[1]');
    expect(problem.detail).toContain('131072');
    expect(await count()).toBe(before);
  });

  it('bounds other bodies at 64 KiB and ingest at 1 MiB', async () => {
    expectProblem(
      await platform('POST', '/internal/authorizations', { app_id: '1', user_id: '1', scopes: ['tweet.read'], pad: 'x'.repeat(65 * 1024) }),
      413,
    );
  });
});
