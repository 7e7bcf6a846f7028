import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { ingest, testUser as u } from './support/activities';
import { appWithWebhook } from './support/fixtures';
import { call, expectProblem, platform } from './support/http';

const countActivities = async () => (await env.DB.prepare('SELECT count(*) AS n FROM activities').first<{ n: number }>())!.n;
const tweetOf = (id: string, author = '1') => ({ id, type: 'tweet_create', tweet: { id: '10', text: 'x', author: u(author) } });

describe('POST /internal/activity', () => {
  it('accepts one activity or a batch, answering 202 with event ids', async () => {
    const one = await platform('POST', '/internal/activity', tweetOf('single-1'));
    expect(one.status).toBe(202);
    expect(one.body.data).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(one.body.data.event_ids[0]).toMatch(/^[0-9]{1,19}$/);
    const batch = await ingest(tweetOf('batch-1'), tweetOf('batch-2'), tweetOf('batch-3'));
    expect(batch.accepted).toBe(3);
    expect(new Set(batch.event_ids).size).toBe(3);
  });

  it.each([
    [{ type: 'tweet_create', tweet: { id: '1', text: 'x', author: u('1') } }, 'id'],
    [{ id: 'x', type: 'tweet_teleport' }, 'type'],
    [{ id: 'x', type: 'tweet_create' }, 'tweet'],
    [{ id: 'x', type: 'tweet_create', tweet: { id: 'abc', text: 'x', author: u('1') } }, 'tweet.id'],
    [{ id: 'x', type: 'tweet_create', tweet: { id: '1', text: 5, author: u('1') } }, 'tweet.text'],
    [{ id: 'x', type: 'tweet_create', tweet: { id: '1', text: 'x', author: { id: '1' } } }, 'tweet.author.name'],
    [{ id: 'x', type: 'tweet_create', tweet: { id: '1', text: 'x', author: u('1', { protected: 'yes' }) } }, 'tweet.author.protected'],
    [{ id: 'x', type: 'follow', source: u('1') }, 'target'],
    [{ id: 'x', type: 'direct_message', message: { id: '1', sender: u('1'), recipient: u('2') } }, 'message.text'],
    [{ id: 'x', type: 'dm_read', reader: u('1'), other: u('2') }, 'last_read_event_id'],
    [{ id: 'x', type: 'tweet_delete', tweet_id: '1', author_id: '2', created_at: 'yesterday' }, 'created_at'],
    [{ id: 'has spaces', type: 'tweet_delete', tweet_id: '1', author_id: '2' }, 'id'],
    [{ id: 'a'.repeat(65), type: 'tweet_delete', tweet_id: '1', author_id: '2' }, 'id'],
  ])('rejects %j naming %s', async (activity, field) => {
    const problem = expectProblem(await platform('POST', '/internal/activity', activity), 400);
    expect(problem.errors.map((e) => e.parameter)).toContain(field);
  });

  it('rejects a whole batch for one bad element, naming its index, and accepts nothing', async () => {
    const before = await countActivities();
    const res = await platform('POST', '/internal/activity', {
      activities: [tweetOf('ok-1'), tweetOf('ok-2'), { id: 'bad', type: 'follow', source: u('1'), target: { id: 'nope' } }],
    });
    const problem = expectProblem(res, 400);
    expect(problem.errors[0].parameter).toBe('activities[2].target.id');
    expect(problem.detail).toContain('nothing was accepted');
    expect(await countActivities()).toBe(before);
  });

  it('accepts 1-100 activities per batch', async () => {
    expectProblem(await platform('POST', '/internal/activity', { activities: [] }), 400);
    const many = Array.from({ length: 101 }, (_, i) => tweetOf(`many-${i}`));
    expectProblem(await platform('POST', '/internal/activity', { activities: many }), 400);
    expect((await ingest(...many.slice(0, 100))).accepted).toBe(100);
  });

  it('refuses bodies over 1 MiB with 413', async () => {
    const huge = { id: 'huge', type: 'tweet_create', tweet: { id: '1', text: 'x'.repeat(1024 * 1024), author: u('1') } };
    expectProblem(await platform('POST', '/internal/activity', huge), 413);
  });

  it('an unknown type is answered with the list of known ones', async () => {
    const problem = expectProblem(await platform('POST', '/internal/activity', { id: 'x', type: 'tweet_teleport' }), 400);
    expect(problem.errors).toEqual([
      { parameter: 'type', message: expect.stringMatching(/^type must be one of tweet_create, tweet_delete, favorite, /) },
    ]);
  });

  it('needs the platform token', async () => {
    expectProblem(await call('POST', '/internal/activity', { body: tweetOf('anon') }), 401);
  });
});

describe('idempotency by activity id', () => {
  it('posting the same id again delivers nothing new and returns the same event id', async () => {
    const { receivers, url } = await appWithWebhook({ subscribers: ['1'] });

    const first = await ingest(tweetOf('dup-1'));
    const second = await ingest(tweetOf('dup-1'));
    expect(second.event_ids).toEqual(first.event_ids);
    expect(second.duplicates).toBe(1);
    // Within one batch too.
    const inBatch = await ingest(tweetOf('dup-2'), tweetOf('dup-2'));
    expect(inBatch.event_ids[0]).toBe(inBatch.event_ids[1]);

    await vi.waitFor(() => expect(receivers.posts(url)).toHaveLength(2), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1500));
    expect(receivers.posts(url)).toHaveLength(2);
  });

  it('a full batch across statement boundaries: every subscriber found, repeats and known ids recorded once', async () => {
    // Ingest inserts 25 activities per statement and looks up 50 users per statement: 60 subscribers,
    // a repeat 60 places after its first, an id posted before, and padding cross every boundary.
    const users = Array.from({ length: 60 }, (_, k) => String(8_000 + k));
    const { receivers, url } = await appWithWebhook({ subscribers: users });
    const known = await ingest(tweetOf('chunk-known', users[0]));
    const batch = [
      ...users.map((user, k) => tweetOf(`chunk-${k}`, user)),
      tweetOf('chunk-0', users[0]),
      tweetOf('chunk-known', users[0]),
      ...Array.from({ length: 38 }, (_, i) => tweetOf(`chunk-pad-${i}`, '99999')),
    ];
    const answer = await ingest(...batch);
    expect(answer.accepted).toBe(100);
    expect(answer.duplicates).toBe(2);
    expect(answer.event_ids[60]).toBe(answer.event_ids[0]);
    expect(answer.event_ids[61]).toBe(known.event_ids[0]);
    expect(new Set(answer.event_ids).size).toBe(99);

    await vi.waitFor(() => expect(receivers.posts(url)).toHaveLength(61), { timeout: 15_000, interval: 50 });
    await new Promise((r) => setTimeout(r, 1000));
    const forUsers = receivers.posts(url).map((p) => (JSON.parse(p.body) as { for_user_id: string }).for_user_id);
    expect(forUsers).toHaveLength(61);
    expect(new Set(forUsers)).toEqual(new Set(users));
  });

  it('posts of the same id racing each other agree on one event id and deliver it once', async () => {
    const { receivers, url } = await appWithWebhook({ subscribers: ['1'] });
    const answers = await Promise.all(Array.from({ length: 5 }, () => ingest(tweetOf('race-1'))));
    expect(new Set(answers.map((a) => a.event_ids[0])).size).toBe(1);
    // Each may hand it to the app's object while the first fan-out is unfinished; the object keeps it once.
    await vi.waitFor(() => expect(receivers.posts(url)).toHaveLength(1), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(receivers.posts(url)).toHaveLength(1);
  });
});
