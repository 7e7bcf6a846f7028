import type { TimedActivity, Tweet, User } from './activities';
import type { AaaActivity } from './audience';
import { renderEvent } from './payloads';
import { OAUTH_REVOKE, type XaaEventType, type XaaFilter } from './xaa-events';

/**
 * Renders what an X Activity API subscriber receives (docs/xaa.md, "Payloads"): the envelope
 * `{"data":{event_uuid, filter, event_type, tag?, payload, includes?}}` with the payload in X's shape
 * for the type. Field names follow X's event payload docs (what X sends), value types follow X's
 * OpenAPI document (so its schemas validate every body). Pure: the same inputs give the same bytes,
 * so a retry, a replay and the stream copy of a webhook delivery carry the same envelope.
 */

/** What the envelope carries of the subscription it was rendered for. */
export interface XaaSubscriptionView {
  id: string;
  filter: XaaFilter;
  tag?: string | null;
}

/**
 * `event_uuid`: unique per (event, subscription) and the same every time it is computed, so every
 * copy (retry, replay, stream) carries the same one. X's schema wants 1-19 digits: 63 bits of a 64-bit
 * FNV-1a hash of the pair, in decimal.
 */
export function eventUuid(eventId: string, subscriptionId: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(`${eventId}:${subscriptionId}`)) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (hash & 0x7fffffffffffffffn).toString();
}

const iso = (ms: number) => new Date(ms).toISOString();

/** A v2 User object (X API v2 names: `username`, string ids). */
export function v2User(user: User) {
  return { id: user.id, name: user.name, username: user.screen_name, protected: user.protected ?? false };
}

const postTime = (tweet: Tweet, fallback: number) =>
  tweet.created_at !== undefined && Number.isFinite(Date.parse(tweet.created_at)) ? Date.parse(tweet.created_at) : fallback;

/** A v2 Post object: only what the ingest knows, nothing made up. */
export function v2Post(tweet: Tweet, fallbackCreatedAt: number) {
  const referenced = [
    tweet.in_reply_to_tweet_id && { type: 'replied_to', id: tweet.in_reply_to_tweet_id },
    tweet.quoted_tweet_id && { type: 'quoted', id: tweet.quoted_tweet_id },
    tweet.retweeted_tweet_id && { type: 'retweeted', id: tweet.retweeted_tweet_id },
  ].filter((r): r is { type: string; id: string } => Boolean(r));
  return {
    id: tweet.id,
    text: tweet.text,
    author_id: tweet.author.id,
    created_at: iso(postTime(tweet, fallbackCreatedAt)),
    edit_history_tweet_ids: [tweet.id],
    ...(tweet.in_reply_to_user_id ? { in_reply_to_user_id: tweet.in_reply_to_user_id } : {}),
    ...(tweet.in_reply_to_tweet_id ? { in_reply_to_tweet_id: tweet.in_reply_to_tweet_id } : {}),
    ...(referenced.length > 0 ? { referenced_tweets: referenced } : {}),
  };
}

/** X wraps the user objects inside some payloads (spaces, broadcasts) as `{ "data": user }`. */
const wrapped = (user: User) => ({ data: v2User(user) });

type Rendered = { payload: Record<string, unknown>; includes?: Record<string, unknown[]> };

/** The payload (and includes) of `eventType` for this activity: the same for every subscription. */
export function renderXaaPayload(activity: TimedActivity, eventType: XaaEventType): Rendered {
  const at = activity.created_at;
  switch (activity.type) {
    case 'tweet_create':
      return { payload: v2Post(activity.tweet, at), includes: { users: [v2User(activity.tweet.author)] } };
    case 'tweet_delete':
      return { payload: { id: activity.tweet_id, author_id: activity.author_id } };
    case 'favorite': {
      const { tweet, user } = activity;
      return {
        payload: {
          id: likeId(activity),
          created_at: iso(postTime(tweet, at)),
          timestamp_ms: at,
          liked_tweet_id: tweet.id,
          liked_tweet_author_id: tweet.author.id,
        },
        // A protected author's post is never carried, not even inside a like. X's OpenAPI names the
        // expanded posts `posts` (its Expansions schema), which wins over older docs' `tweets`.
        includes: {
          users: user.id === tweet.author.id ? [v2User(user)] : [v2User(user), v2User(tweet.author)],
          ...(tweet.author.protected ? {} : { posts: [v2Post(tweet, at)] }),
        },
      };
    }
    case 'follow':
    case 'unfollow':
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute':
      return { payload: { source: v2User(activity.source), target: v2User(activity.target) } };
    case 'direct_message':
    case 'dm_typing':
    case 'dm_read':
      // X's XAA dm.* payloads are the Account Activity shape: the events array and the users map.
      return { payload: renderEvent(activity as AaaActivity) };
    case 'profile_update':
      return { payload: { before: activity.before, after: activity.after } };
    case 'space_start':
    case 'space_end':
      return {
        payload: {
          user: wrapped(activity.host),
          broadcast_id: activity.space_id,
          event_type: eventType === 'spaces.start' ? 'spaces_start' : 'spaces_end',
        },
      };
    case 'broadcast_start':
    case 'broadcast_end':
      return {
        payload: {
          user: wrapped(activity.host),
          broadcast_id: activity.broadcast_id,
          ...(activity.title !== undefined ? { title: activity.title } : {}),
          ...(activity.language !== undefined ? { language: activity.language } : {}),
          broadcast_state: activity.type === 'broadcast_start' ? 'Running' : 'Ended',
          event_timestamp_ms: at,
          event_timestamp_ms_str: String(at),
        },
      };
    case 'broadcast_chat':
      return {
        payload: {
          broadcast_id: activity.broadcast_id,
          message_id: activity.message_id,
          message: activity.text,
          author: wrapped(activity.author),
        },
      };
    case 'chat_message':
      return {
        payload: {
          ...activity.message,
          created_at_msec: activity.message.created_at_msec ?? String(at),
          sender_id: activity.sender_id,
          conversation_id: activity.conversation_id,
        },
      };
    case 'chat_join':
      return {
        payload: {
          ...activity.event,
          created_at_msec: activity.event.created_at_msec ?? String(at),
          sender_id: activity.user_id,
          conversation_id: activity.conversation_id,
        },
      };
  }
}

/**
 * X's like ids are 1-40 of A-Z a-z 0-9 _: the activity id (as the AAA favorite event has it) when it
 * is one, else a stable hash of it.
 */
const likeId = (activity: TimedActivity & { type: 'favorite' }) =>
  /^[A-Za-z0-9_]{1,40}$/.test(activity.id) ? activity.id : eventUuid(activity.id, 'like');

/** The filter as the envelope shows it: only the parts the subscription set. */
export const filterView = (filter: XaaFilter) => ({
  user_id: filter.user_id,
  ...(filter.direction ? { direction: filter.direction } : {}),
  ...(filter.keyword !== undefined ? { keyword: filter.keyword } : {}),
});

/** The body one subscription receives for one event. */
export function renderXaaEnvelope(eventId: string, eventType: XaaEventType, rendered: Rendered, subscription: XaaSubscriptionView): string {
  return JSON.stringify({
    data: {
      event_uuid: eventUuid(eventId, subscription.id),
      filter: filterView(subscription.filter),
      event_type: eventType,
      ...(subscription.tag ? { tag: subscription.tag } : {}),
      payload: rendered.payload,
      ...(rendered.includes ? { includes: rendered.includes } : {}),
    },
  });
}

/**
 * `oauth.revoke`, sent to each XAA target (webhook, stream) of an app when a user revokes it: an empty
 * filter and no tag, since it belongs to no subscription. `target` makes its event_uuid differ per target.
 */
export function renderXaaRevoke(eventId: string, target: string, revoke: { appId: string; userId: string; at: number }): string {
  return JSON.stringify({
    data: {
      event_uuid: eventUuid(eventId, target),
      filter: {},
      event_type: OAUTH_REVOKE,
      payload: { date_time: iso(revoke.at), user_id: revoke.userId, app_id: revoke.appId },
    },
  });
}

/** The longest envelope any subscription could receive for this activity (longest tag and keyword), in bytes. */
export function largestXaaEnvelopeBytes(activity: TimedActivity, occurrences: { eventType: XaaEventType; userId: string }[]): number {
  const worst: XaaSubscriptionView = {
    id: '9'.repeat(19),
    filter: { user_id: '9'.repeat(19), direction: 'outbound', keyword: 'k'.repeat(150) },
    tag: 't'.repeat(200),
  };
  const encoder = new TextEncoder();
  let largest = 0;
  for (const { eventType } of occurrences) {
    const body = renderXaaEnvelope('9'.repeat(19), eventType, renderXaaPayload(activity, eventType), worst);
    largest = Math.max(largest, encoder.encode(body).byteLength);
  }
  return largest;
}
