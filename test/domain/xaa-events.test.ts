import { describe, expect, it } from 'vitest';
import { activitySchema } from '../../src/domain/activities';
import { audienceOf } from '../../src/domain/audience';
import { filterMatches, type XaaOccurrence, xaaEventsOf, xaaScopeOf } from '../../src/domain/xaa-events';
import { eventUuid, renderXaaEnvelope, renderXaaPayload, renderXaaRevoke } from '../../src/domain/xaa-payloads';
import { filterProblem } from '../../src/domain/xaa-requests';
import { AT, activity, tweet, u } from './fixtures';

const events = (input: Record<string, unknown>) =>
  xaaEventsOf(activity(input))
    .map((o) => `${o.eventType}:${o.userId}${o.directions ? `:${o.directions.join('+')}` : ''}`)
    .sort();

describe('which XAA events an activity is (docs/xaa.md, "From activities to events")', () => {
  it('a reply that mentions, quotes and reposts: one event per role, never to the author for others', () => {
    expect(
      events({
        type: 'tweet_create',
        tweet: tweet('10', u('1'), { in_reply_to_user_id: '2', mentions: ['3', '1'], quoted_user_id: '4', retweeted_user_id: '5' }),
      }),
    ).toEqual(['post.create:1', 'post.mention.create:3', 'post.quote.create:4', 'post.reply.create:2', 'post.repost.create:5']);
  });

  it("a protected author's post and deletion are no XAA event at all", () => {
    expect(events({ type: 'tweet_create', tweet: tweet('10', u('1', { protected: true }), { mentions: ['2'] }) })).toEqual([]);
    expect(events({ type: 'tweet_delete', tweet_id: '10', author_id: '1', author_protected: true })).toEqual([]);
    expect(events({ type: 'tweet_delete', tweet_id: '10', author_id: '1' })).toEqual(['post.delete:1']);
  });

  it('likes carry their direction; a self-like is one event with both', () => {
    expect(events({ type: 'favorite', user: u('1'), tweet: tweet('10', u('2')) })).toEqual([
      'like.create:1:outbound',
      'like.create:2:inbound',
    ]);
    expect(events({ type: 'favorite', user: u('1'), tweet: tweet('10', u('1')) })).toEqual(['like.create:1:outbound+inbound']);
  });

  it('follows go to both sides; mutes and blocks only to the one who acts', () => {
    expect(events({ type: 'unfollow', source: u('1'), target: u('2') })).toEqual(['follow.unfollow:1', 'follow.unfollow:2']);
    expect(events({ type: 'mute', source: u('1'), target: u('2') })).toEqual(['mute.mute:1']);
    expect(events({ type: 'unblock', source: u('1'), target: u('2') })).toEqual(['block.unblock:1']);
  });

  it('direct messages, typing and reads', () => {
    const message = { id: '9', sender: u('1'), recipient: u('2'), text: 'hi' };
    expect(events({ type: 'direct_message', message })).toEqual(['dm.received:2', 'dm.sent:1']);
    expect(events({ type: 'dm_typing', sender: u('1'), recipient: u('2') })).toEqual(['dm.indicate_typing:2']);
    expect(events({ type: 'dm_read', reader: u('1'), other: u('2'), last_read_event_id: '9' })).toEqual(['dm.read:2']);
  });

  it('the types only XAA has, which Account Activity never delivers', () => {
    const chat = { id: 'c1', encoded_event: 'AAEC', conversation_token: 'tok' };
    const cases: [Record<string, unknown>, string[]][] = [
      [{ type: 'profile_update', user: u('1'), field: 'bio', before: 'a', after: 'b' }, ['profile.update.bio:1']],
      [{ type: 'space_start', host: u('1'), space_id: '1qxvvvyLLdnxB' }, ['spaces.start:1']],
      [{ type: 'broadcast_end', host: u('1'), broadcast_id: '1a2b3c' }, ['broadcast.end:1']],
      [{ type: 'broadcast_chat', owner: u('1'), author: u('2'), broadcast_id: 'b1', message_id: '7', text: 'yo' }, ['broadcast.chat:1']],
      [
        { type: 'chat_message', sender_id: '1', recipient_ids: ['2', '3'], conversation_id: '1:2', message: chat },
        ['chat.received:2', 'chat.received:3', 'chat.sent:1'],
      ],
      [{ type: 'chat_join', user_id: '4', conversation_id: 'g123', event: { id: 'j1' } }, ['chat.conversation_join:4']],
    ];
    for (const [input, expected] of cases) {
      expect(events(input)).toEqual(expected);
      expect(audienceOf(activity(input))).toEqual([]);
    }
  });

  it('rejects malformed new activities by field', () => {
    const bad = [
      { type: 'profile_update', user: u('1'), field: 'nickname', before: '', after: '' },
      { type: 'space_start', host: u('1'), space_id: 'no spaces!' },
      { type: 'chat_message', sender_id: '1', recipient_ids: [], conversation_id: '1:2', message: { id: 'c', encoded_event: 'x' } },
      { type: 'chat_message', sender_id: '1', recipient_ids: ['2'], conversation_id: '1:2', message: { id: 'c' } },
      { type: 'chat_join', user_id: '1', conversation_id: 'nope', event: { id: 'j' } },
    ];
    for (const input of bad) expect(activitySchema.safeParse({ id: 'a', ...input }).success).toBe(false);
  });
});

describe('scopes and filters', () => {
  it('public events need no scope; private ones name theirs', () => {
    expect(['post.create', 'post.delete', 'profile.update.geo', 'spaces.end', 'broadcast.start'].map(xaaScopeOf)).toEqual([
      null,
      null,
      null,
      null,
      null,
    ]);
    expect(
      ['post.reply.create', 'like.create', 'follow.follow', 'dm.read', 'chat.sent', 'mute.unmute', 'block.block', 'broadcast.chat'].map(
        xaaScopeOf,
      ),
    ).toEqual(['tweet.read', 'like.read', 'follows.read', 'dm.read', 'dm.read', 'mute.read', 'block.read', 'broadcast.read']);
    expect(xaaScopeOf('news.new')).toBeUndefined();
  });

  it('direction and keyword', () => {
    const like: XaaOccurrence = { eventType: 'like.create', userId: '1', directions: ['inbound'] };
    expect(filterMatches({ user_id: '1' }, like)).toBe(true);
    expect(filterMatches({ user_id: '1', direction: 'inbound' }, like)).toBe(true);
    expect(filterMatches({ user_id: '1', direction: 'outbound' }, like)).toBe(false);
    const post: XaaOccurrence = { eventType: 'post.create', userId: '1', text: 'Hello Édge World' };
    expect(filterMatches({ user_id: '1', keyword: 'édge' }, post)).toBe(true);
    expect(filterMatches({ user_id: '1', keyword: 'edge' }, post)).toBe(false);
    expect(filterMatches({ user_id: '1', keyword: 'x' }, { eventType: 'post.delete', userId: '1' })).toBe(false);
  });

  it('a filter that does not fit its type is named', () => {
    expect(filterProblem('follow.follow', { user_id: '1', direction: 'inbound' }, null)?.parameter).toBe('filter.direction');
    expect(filterProblem('post.delete', { user_id: '1', keyword: 'k' }, null)?.parameter).toBe('filter.keyword');
    expect(filterProblem('block.block', { user_id: '1' }, '2')?.status).toBe(403);
    expect(filterProblem('block.block', { user_id: '2' }, '2')).toBeNull();
    expect(filterProblem('like.create', { user_id: '1', direction: 'outbound' }, null)).toBeNull();
  });
});

describe('envelopes', () => {
  it('event_uuid is stable per (event, subscription), digits only, and differs between them', () => {
    expect(eventUuid('913476002586443776', '1')).toBe(eventUuid('913476002586443776', '1'));
    expect(eventUuid('913476002586443776', '1')).not.toBe(eventUuid('913476002586443776', '2'));
    for (let i = 0; i < 200; i++) expect(eventUuid(String(i), 'sub')).toMatch(/^[0-9]{1,19}$/);
  });

  it("keeps a protected author's post out of a like's includes, and carries anyone else's under X's `posts`", () => {
    const open = renderXaaPayload(activity({ type: 'favorite', user: u('1'), tweet: tweet('11', u('3')) }), 'like.create');
    expect(open.includes?.posts).toEqual([expect.objectContaining({ id: '11', author_id: '3' })]);
    const like = activity({ type: 'favorite', user: u('1'), tweet: tweet('10', u('2', { protected: true })) });
    const rendered = renderXaaPayload(like, 'like.create');
    expect(rendered.includes?.posts).toBeUndefined();
    expect(rendered.payload).toMatchObject({ liked_tweet_id: '10', liked_tweet_author_id: '2', timestamp_ms: AT });
  });

  it('passes encrypted chat through untouched', () => {
    const material = {
      id: 'm-1',
      encoded_event: 'Cw/ABAAAAEz+IwODA=',
      conversation_key_version: '17',
      message_event_signature: { signature: 'sig' },
    };
    const chat = activity({ type: 'chat_message', sender_id: '1', recipient_ids: ['2'], conversation_id: '1:2', message: material });
    expect(renderXaaPayload(chat, 'chat.received').payload).toEqual({
      ...material,
      created_at_msec: String(AT),
      sender_id: '1',
      conversation_id: '1:2',
    });
  });

  it('renders the envelope with only the filter parts set, and oauth.revoke with an empty filter', () => {
    const post = activity({ type: 'tweet_create', tweet: tweet('10', u('1')) });
    const body = JSON.parse(
      renderXaaEnvelope('5', 'post.create', renderXaaPayload(post, 'post.create'), { id: '3', filter: { user_id: '1' } }),
    );
    expect(body.data).toMatchObject({ event_uuid: eventUuid('5', '3'), filter: { user_id: '1' }, event_type: 'post.create' });
    expect('tag' in body.data).toBe(false);
    const revoke = JSON.parse(renderXaaRevoke('5', 'stream', { appId: '9', userId: '1', at: AT }));
    expect(revoke).toEqual({
      data: {
        event_uuid: eventUuid('5', 'stream'),
        filter: {},
        event_type: 'oauth.revoke',
        payload: { date_time: new Date(AT).toISOString(), user_id: '1', app_id: '9' },
      },
    });
  });
});
