import { PROFILE_FIELDS, type TimedActivity } from './activities';

/**
 * The X Activity API's side of one ingest (docs/xaa.md): which XAA event types exist, which need the
 * filter user's authorization (and of which scope), which filters each accepts, and, for one
 * activity, which events it is for which filter user. This is the one place that decides "who gets
 * this event" for XAA, as audience.ts is for Account Activity. When in doubt it names fewer users:
 * a protected author's posts produce no XAA event at all. Pure.
 */
export type Direction = 'inbound' | 'outbound';

interface EventTypeRule {
  /** The scope the filter user's live authorization must hold; null for public events. */
  scope: string | null;
  /** Accepts a `direction` filter. */
  directional?: true;
  /** Has text a `keyword` filter can match (a post, a DM, a broadcast chat message). */
  hasText?: true;
  /** Only the acting user can be the filter user, and a user token must be that user's own. */
  actorOnly?: true;
}

const post = (scope: string | null): EventTypeRule => ({ scope, hasText: true });
const profileTypes = Object.fromEntries(PROFILE_FIELDS.map((field) => [`profile.update.${field}`, { scope: null }])) as Record<
  `profile.update.${(typeof PROFILE_FIELDS)[number]}`,
  EventTypeRule
>;

/** Every event type a subscription may name. */
export const XAA_EVENT_TYPES = {
  'post.create': post(null),
  'post.delete': { scope: null },
  'post.mention.create': post('tweet.read'),
  'post.reply.create': post('tweet.read'),
  'post.quote.create': post('tweet.read'),
  'post.repost.create': post('tweet.read'),
  'like.create': { scope: 'like.read', directional: true },
  'follow.follow': { scope: 'follows.read' },
  'follow.unfollow': { scope: 'follows.read' },
  'mute.mute': { scope: 'mute.read', actorOnly: true },
  'mute.unmute': { scope: 'mute.read', actorOnly: true },
  'block.block': { scope: 'block.read', actorOnly: true },
  'block.unblock': { scope: 'block.read', actorOnly: true },
  'dm.sent': { scope: 'dm.read', hasText: true },
  'dm.received': { scope: 'dm.read', hasText: true },
  'dm.indicate_typing': { scope: 'dm.read' },
  'dm.read': { scope: 'dm.read' },
  'chat.sent': { scope: 'dm.read' },
  'chat.received': { scope: 'dm.read' },
  'chat.conversation_join': { scope: 'dm.read' },
  ...profileTypes,
  'spaces.start': { scope: null },
  'spaces.end': { scope: null },
  'broadcast.start': { scope: null },
  'broadcast.end': { scope: null },
  'broadcast.chat': { scope: 'broadcast.read', hasText: true },
} as const satisfies Record<string, EventTypeRule>;

export type XaaEventType = keyof typeof XAA_EVENT_TYPES;
/** The app-level notice sent to every XAA target of an app when a user revokes it. */
export const OAUTH_REVOKE = 'oauth.revoke';

export const isXaaEventType = (type: string): type is XaaEventType => Object.hasOwn(XAA_EVENT_TYPES, type);
export const xaaRule = (type: XaaEventType): EventTypeRule => XAA_EVENT_TYPES[type];
/** The scope an XAA event type needs, null when public; undefined for a type that is not one. */
export const xaaScopeOf = (type: string): string | null | undefined => (isXaaEventType(type) ? XAA_EVENT_TYPES[type].scope : undefined);

/** One XAA event an activity produces for one filter user. */
export interface XaaOccurrence {
  eventType: XaaEventType;
  userId: string;
  /** For directional types: which side of the event the filter user is on (both for a self-like). */
  directions?: Direction[];
  /** What a keyword filter is matched against, where the event has text. */
  text?: string;
}

/** A subscription's filter, as it is stored. */
export interface XaaFilter {
  user_id: string;
  direction?: Direction;
  keyword?: string;
}

/** Whether a subscription's filter takes this occurrence (event type and user are matched before). */
export function filterMatches(filter: XaaFilter, occurrence: XaaOccurrence): boolean {
  if (filter.direction && !occurrence.directions?.includes(filter.direction)) return false;
  if (filter.keyword !== undefined) {
    // Deliver less: an event without text never matches a keyword.
    if (occurrence.text === undefined) return false;
    return occurrence.text.toLocaleLowerCase('en-US').includes(filter.keyword.toLocaleLowerCase('en-US'));
  }
  return true;
}

/** The XAA events of one activity, one per (event type, filter user). */
export function xaaEventsOf(activity: TimedActivity): XaaOccurrence[] {
  const out = new Map<string, XaaOccurrence>();
  const add = (eventType: XaaEventType, userId: string | undefined, extra: Omit<XaaOccurrence, 'eventType' | 'userId'> = {}) => {
    if (!userId) return;
    const key = `${eventType}|${userId}`;
    const seen = out.get(key);
    if (seen && extra.directions) seen.directions = [...new Set([...(seen.directions ?? []), ...extra.directions])];
    else if (!seen) out.set(key, { eventType, userId, ...extra });
  };
  switch (activity.type) {
    case 'tweet_create': {
      const { tweet } = activity;
      if (tweet.author.protected) break; // a protected author's posts never go out through XAA
      const author = tweet.author.id;
      const text = tweet.text;
      add('post.create', author, { text });
      const others = (id: string | undefined) => (id === author ? undefined : id);
      for (const mentioned of tweet.mentions ?? []) add('post.mention.create', others(mentioned), { text });
      add('post.reply.create', others(tweet.in_reply_to_user_id), { text });
      add('post.quote.create', others(tweet.quoted_user_id), { text });
      add('post.repost.create', others(tweet.retweeted_user_id), { text });
      break;
    }
    case 'tweet_delete':
      if (!activity.author_protected) add('post.delete', activity.author_id);
      break;
    case 'favorite':
      add('like.create', activity.user.id, { directions: ['outbound'] });
      add('like.create', activity.tweet.author.id, { directions: ['inbound'] });
      break;
    case 'follow':
    case 'unfollow': {
      const type = activity.type === 'follow' ? 'follow.follow' : 'follow.unfollow';
      add(type, activity.source.id);
      add(type, activity.target.id);
      break;
    }
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute':
      // Only the acting user hears of it: nobody is told they were muted or blocked.
      add(`${activity.type.replace(/^un/, '')}.${activity.type}` as XaaEventType, activity.source.id);
      break;
    case 'direct_message':
      add('dm.sent', activity.message.sender.id, { text: activity.message.text });
      add('dm.received', activity.message.recipient.id, { text: activity.message.text });
      break;
    case 'dm_typing':
      add('dm.indicate_typing', activity.recipient.id);
      break;
    case 'dm_read':
      add('dm.read', activity.other.id);
      break;
    case 'profile_update':
      add(`profile.update.${activity.field}`, activity.user.id);
      break;
    case 'space_start':
    case 'space_end':
      add(activity.type === 'space_start' ? 'spaces.start' : 'spaces.end', activity.host.id);
      break;
    case 'broadcast_start':
    case 'broadcast_end':
      add(activity.type === 'broadcast_start' ? 'broadcast.start' : 'broadcast.end', activity.host.id);
      break;
    case 'broadcast_chat':
      add('broadcast.chat', activity.owner.id, { text: activity.text });
      break;
    case 'chat_message':
      add('chat.sent', activity.sender_id);
      for (const recipient of activity.recipient_ids) add('chat.received', recipient);
      break;
    case 'chat_join':
      add('chat.conversation_join', activity.user_id);
      break;
  }
  return [...out.values()];
}

/** Every user some XAA event of the activity is for: what fan-out asks D1 about. */
export const xaaUsersOf = (activity: TimedActivity): string[] => [...new Set(xaaEventsOf(activity).map((o) => o.userId))];
