import { describe, expect, it } from 'vitest';
import { renderPayload, renderReplayJobStatus, renderRevoke, renderTestEvent, twitterDate } from '../../src/domain/payloads';
import { AT, aaaActivity, tweet, u } from './fixtures';

const render = (input: Record<string, unknown>, forUser = '1') => JSON.parse(renderPayload(aaaActivity(input), forUser));
const TS = String(AT);
const v1 = (id: string, extra: Record<string, unknown> = {}) => ({
  id: Number(id),
  id_str: id,
  name: `User ${id}`,
  screen_name: `user${id}`,
  protected: false,
  ...extra,
});

describe('payload shapes (docs/events.md)', () => {
  it("formats dates the way X's v1.1 API does", () => {
    expect(twitterDate(AT)).toBe('Wed Oct 10 20:19:24 +0000 2018');
  });

  it('tweet_create_events', () => {
    const body = render({
      type: 'tweet_create',
      tweet: tweet('1050118621198921728', u('1', { verified: true }), {
        in_reply_to_user_id: '2',
        entities: { hashtags: [{ text: 'x' }] },
      }),
    });
    expect(body).toEqual({
      for_user_id: '1',
      tweet_create_events: [
        {
          created_at: 'Wed Oct 10 20:19:24 +0000 2018',
          id_str: '1050118621198921728',
          text: 'tweet 1050118621198921728',
          user: v1('1', { verified: true }),
          entities: { hashtags: [{ text: 'x' }] },
          in_reply_to_user_id: 2,
          in_reply_to_user_id_str: '2',
          timestamp_ms: TS,
        },
      ],
    });
    // An id beyond 2^53 has no numeric twin.
    expect(body.tweet_create_events[0].id).toBeUndefined();
  });

  it("uses the tweet's own created_at when given", () => {
    const body = render({ type: 'tweet_create', tweet: tweet('5', u('1'), { created_at: '2020-01-01T00:00:00Z' }) });
    expect(body.tweet_create_events[0].created_at).toBe('Wed Jan 01 00:00:00 +0000 2020');
    expect(body.tweet_create_events[0].id).toBe(5);
  });

  it('tweet_delete_events', () => {
    expect(render({ type: 'tweet_delete', tweet_id: '9', author_id: '1' })).toEqual({
      for_user_id: '1',
      tweet_delete_events: [{ status: { id: '9', user_id: '1' }, timestamp_ms: TS }],
    });
  });

  it('favorite_events', () => {
    const body = render({ id: 'fav-123', type: 'favorite', user: u('1'), tweet: tweet('9', u('2')) });
    expect(body.favorite_events[0]).toMatchObject({
      id: 'fav-123',
      created_at: 'Wed Oct 10 20:19:24 +0000 2018',
      timestamp_ms: TS,
      user: v1('1'),
      favorited_status: { id_str: '9', user: v1('2') },
    });
  });

  it.each([
    ['follow', 'follow_events'],
    ['unfollow', 'follow_events'],
    ['block', 'block_events'],
    ['unblock', 'block_events'],
    ['mute', 'mute_events'],
    ['unmute', 'mute_events'],
  ])('%s → %s', (type, key) => {
    expect(render({ type, source: u('1'), target: u('2') })).toEqual({
      for_user_id: '1',
      [key]: [{ type, created_timestamp: TS, source: v1('1'), target: v1('2') }],
    });
  });

  it('direct_message_events with users and apps maps', () => {
    const body = render(
      {
        type: 'direct_message',
        message: { id: '77', sender: u('1'), recipient: u('2'), text: 'hi', source_app_id: '268278' },
      },
      '2',
    );
    expect(body).toEqual({
      for_user_id: '2',
      direct_message_events: [
        {
          type: 'message_create',
          id: '77',
          created_timestamp: TS,
          message_create: {
            target: { recipient_id: '2' },
            sender_id: '1',
            source_app_id: '268278',
            message_data: { text: 'hi', entities: { hashtags: [], urls: [], user_mentions: [], symbols: [] } },
          },
        },
      ],
      users: { '1': v1('1'), '2': v1('2') },
      apps: { '268278': { id: '268278' } },
    });
  });

  it('direct_message without source_app_id has no apps map', () => {
    const body = render({ type: 'direct_message', message: { id: '77', sender: u('1'), recipient: u('2'), text: 'hi' } });
    expect(body.apps).toBeUndefined();
    expect(body.direct_message_events[0].message_create.source_app_id).toBeUndefined();
  });

  it('direct_message_indicate_typing_events', () => {
    expect(render({ type: 'dm_typing', sender: u('1'), recipient: u('2') }, '2')).toEqual({
      for_user_id: '2',
      direct_message_indicate_typing_events: [{ created_timestamp: TS, sender_id: '1', target: { recipient_id: '2' } }],
      users: { '1': v1('1'), '2': v1('2') },
    });
  });

  it('direct_message_mark_read_events', () => {
    expect(render({ type: 'dm_read', reader: u('1'), other: u('2'), last_read_event_id: '77' }, '2')).toEqual({
      for_user_id: '2',
      direct_message_mark_read_events: [{ created_timestamp: TS, sender_id: '1', target: { recipient_id: '2' }, last_read_event_id: '77' }],
      users: { '1': v1('1'), '2': v1('2') },
    });
  });

  it('user_event revoke has no for_user_id', () => {
    expect(JSON.parse(renderRevoke('42', '1', AT))).toEqual({
      user_event: { revoke: { date_time: '2018-10-10T20:19:24.000Z', target: { app_id: '42' }, source: { user_id: '1' } } },
    });
  });

  it('replay_job_status', () => {
    expect(JSON.parse(renderReplayJobStatus({ webhookId: '5', jobId: '9', complete: true, description: 'done' }))).toEqual({
      replay_job_status: { webhook_id: '5', job_state: 'Complete', job_state_description: 'done', job_id: '9' },
    });
  });

  it('test_event names only the app, the webhook and itself: no for_user_id, no user data', () => {
    expect(JSON.parse(renderTestEvent({ appId: '42', webhookId: '5', eventId: '77', at: AT }))).toEqual({
      test_event: {
        id: '77',
        created_timestamp: String(AT),
        app_id: '42',
        webhook_id: '5',
        description: 'A test event sent from the developer portal. It carries no user data.',
      },
    });
  });
});
