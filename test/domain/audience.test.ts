import { describe, expect, it } from 'vitest';
import { audienceOf, hasScope, REQUIRED_SCOPE } from '../../src/domain/audience';
import { activity, tweet, u } from './fixtures';

const sorted = (xs: string[]) => [...xs].sort();

describe('audience rules (docs/events.md)', () => {
  it('tweet_create: author plus replied-to, mentioned, quoted and retweeted users', () => {
    const a = activity({
      type: 'tweet_create',
      tweet: tweet('9', u('1'), { in_reply_to_user_id: '2', mentions: ['3', '4', '1'], quoted_user_id: '5', retweeted_user_id: '6' }),
    });
    expect(sorted(audienceOf(a))).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('tweet_create by a protected author reaches only the author', () => {
    const a = activity({
      type: 'tweet_create',
      tweet: tweet('9', u('1', { protected: true }), {
        in_reply_to_user_id: '2',
        mentions: ['3'],
        quoted_user_id: '5',
        retweeted_user_id: '6',
      }),
    });
    expect(audienceOf(a)).toEqual(['1']);
  });

  it('tweet_delete: the author', () => {
    expect(audienceOf(activity({ type: 'tweet_delete', tweet_id: '9', author_id: '7' }))).toEqual(['7']);
  });

  it('favorite: the liker and the tweet author', () => {
    expect(sorted(audienceOf(activity({ type: 'favorite', user: u('1'), tweet: tweet('9', u('2')) })))).toEqual(['1', '2']);
  });

  it('follow: source and target; unfollow: source only', () => {
    expect(sorted(audienceOf(activity({ type: 'follow', source: u('1'), target: u('2') })))).toEqual(['1', '2']);
    expect(audienceOf(activity({ type: 'unfollow', source: u('1'), target: u('2') }))).toEqual(['1']);
  });

  it.each(['block', 'unblock', 'mute', 'unmute'])('%s: source only', (type) => {
    expect(audienceOf(activity({ type, source: u('1'), target: u('2') }))).toEqual(['1']);
  });

  it('direct_message: sender and recipient', () => {
    const a = activity({ type: 'direct_message', message: { id: '77', sender: u('1'), recipient: u('2'), text: 'hi' } });
    expect(sorted(audienceOf(a))).toEqual(['1', '2']);
  });

  it('dm_typing: the recipient only; dm_read: the other user only', () => {
    expect(audienceOf(activity({ type: 'dm_typing', sender: u('1'), recipient: u('2') }))).toEqual(['2']);
    expect(audienceOf(activity({ type: 'dm_read', reader: u('1'), other: u('2'), last_read_event_id: '77' }))).toEqual(['2']);
  });

  it('a self-DM or self-mention names the user once', () => {
    const a = activity({ type: 'direct_message', message: { id: '77', sender: u('1'), recipient: u('1'), text: 'note' } });
    expect(audienceOf(a)).toEqual(['1']);
  });
});

describe('scopes', () => {
  it('each type needs the scope in the table', () => {
    expect(REQUIRED_SCOPE).toEqual({
      tweet_create: 'tweet.read',
      tweet_delete: 'tweet.read',
      favorite: 'like.read',
      follow: 'follows.read',
      unfollow: 'follows.read',
      block: 'block.read',
      unblock: 'block.read',
      mute: 'mute.read',
      unmute: 'mute.read',
      direct_message: 'dm.read',
      dm_typing: 'dm.read',
      dm_read: 'dm.read',
    });
  });
  it('matches whole scope names only', () => {
    expect(hasScope('tweet.read dm.read', 'dm.read')).toBe(true);
    expect(hasScope('tweet.read dm.readonly', 'dm.read')).toBe(false);
    expect(hasScope('', 'dm.read')).toBe(false);
  });
});
