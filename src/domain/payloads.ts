import type { Tweet, User } from './activities';
import type { AaaActivity } from './audience';

/**
 * Renders what a webhook receives for one event and one user, in X's v1.1 Account Activity shapes
 * (docs/events.md, "Payloads"). Pure: the same inputs always give the same bytes, which is what lets a
 * retry or a replay carry the original payload.
 */
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** X's v1.1 date format: `Wed Oct 10 20:19:24 +0000 2018`. */
export function twitterDate(ms: number): string {
  const d = new Date(ms);
  return (
    `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000 ${d.getUTCFullYear()}`
  );
}

/** `id` as a number only where JavaScript can hold it exactly; the `_str` twin always. */
const numericId = (id: string): number | undefined => {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
};
const withId = (id: string) => {
  const n = numericId(id);
  return n === undefined ? { id_str: id } : { id: n, id_str: id };
};

function v1User(user: User) {
  const { id, name, screen_name, protected: isProtected, ...extra } = user;
  return { ...extra, ...withId(id), name, screen_name, protected: isProtected ?? false };
}

const EMPTY_ENTITIES = { hashtags: [], urls: [], user_mentions: [], symbols: [] };

function v1Tweet(tweet: Tweet, fallbackCreatedAt: number) {
  const created =
    tweet.created_at !== undefined && Number.isFinite(Date.parse(tweet.created_at)) ? Date.parse(tweet.created_at) : fallbackCreatedAt;
  const replyTo = tweet.in_reply_to_user_id;
  return {
    created_at: twitterDate(created),
    ...withId(tweet.id),
    text: tweet.text,
    user: v1User(tweet.author),
    entities: tweet.entities ?? EMPTY_ENTITIES,
    ...(replyTo
      ? { in_reply_to_user_id: numericId(replyTo) ?? null, in_reply_to_user_id_str: replyTo }
      : { in_reply_to_user_id: null, in_reply_to_user_id_str: null }),
    ...(tweet.quoted_user_id ? { quoted_user_id_str: tweet.quoted_user_id } : {}),
    ...(tweet.retweeted_user_id ? { retweeted_user_id_str: tweet.retweeted_user_id } : {}),
    timestamp_ms: String(created),
  };
}

const usersMap = (...users: User[]) => Object.fromEntries(users.map((u) => [u.id, v1User(u)]));

/**
 * The payload key and its one event, plus the top-level maps some keys carry. XAA's `dm.*` payloads
 * are this same shape (xaa-payloads.ts).
 */
export function renderEvent(activity: AaaActivity): Record<string, unknown> {
  const ts = String(activity.created_at);
  switch (activity.type) {
    case 'tweet_create':
      return { tweet_create_events: [v1Tweet(activity.tweet, activity.created_at)] };
    case 'tweet_delete':
      return {
        tweet_delete_events: [{ status: { id: activity.tweet_id, user_id: activity.author_id }, timestamp_ms: ts }],
      };
    case 'favorite':
      return {
        favorite_events: [
          {
            id: activity.id,
            created_at: twitterDate(activity.created_at),
            timestamp_ms: ts,
            favorited_status: v1Tweet(activity.tweet, activity.created_at),
            user: v1User(activity.user),
          },
        ],
      };
    case 'follow':
    case 'unfollow':
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute': {
      const key = activity.type.endsWith('follow') ? 'follow_events' : activity.type.endsWith('block') ? 'block_events' : 'mute_events';
      return {
        [key]: [{ type: activity.type, created_timestamp: ts, source: v1User(activity.source), target: v1User(activity.target) }],
      };
    }
    case 'direct_message': {
      const { message } = activity;
      return {
        direct_message_events: [
          {
            type: 'message_create',
            id: message.id,
            created_timestamp: ts,
            message_create: {
              target: { recipient_id: message.recipient.id },
              sender_id: message.sender.id,
              ...(message.source_app_id ? { source_app_id: message.source_app_id } : {}),
              message_data: { text: message.text, entities: message.entities ?? EMPTY_ENTITIES },
            },
          },
        ],
        users: usersMap(message.sender, message.recipient),
        ...(message.source_app_id ? { apps: { [message.source_app_id]: { id: message.source_app_id } } } : {}),
      };
    }
    case 'dm_typing':
      return {
        direct_message_indicate_typing_events: [
          { created_timestamp: ts, sender_id: activity.sender.id, target: { recipient_id: activity.recipient.id } },
        ],
        users: usersMap(activity.sender, activity.recipient),
      };
    case 'dm_read':
      return {
        direct_message_mark_read_events: [
          {
            created_timestamp: ts,
            sender_id: activity.reader.id,
            target: { recipient_id: activity.other.id },
            last_read_event_id: activity.last_read_event_id,
          },
        ],
        users: usersMap(activity.reader, activity.other),
      };
  }
}

/** The body of one POST: one event for one user. */
export const renderPayload = (activity: AaaActivity, forUserId: string): string =>
  JSON.stringify({ for_user_id: forUserId, ...renderEvent(activity) });

/** Sent to each valid webhook of an app when a user revokes it; no `for_user_id`. */
export const renderRevoke = (appId: string, userId: string, at: number): string =>
  JSON.stringify({
    user_event: { revoke: { date_time: new Date(at).toISOString(), target: { app_id: appId }, source: { user_id: userId } } },
  });

export const renderReplayJobStatus = (status: { webhookId: string; jobId: string; complete: boolean; description: string }): string =>
  JSON.stringify({
    replay_job_status: {
      webhook_id: status.webhookId,
      job_state: status.complete ? 'Complete' : 'Incomplete',
      job_state_description: status.description,
      job_id: status.jobId,
    },
  });

/**
 * A developer's test event (docs/events.md, "test_event"): synthetic, about no user, so it carries
 * nothing but the ids of the app, the webhook and itself. Signed and recorded like any delivery.
 */
export const renderTestEvent = (test: { appId: string; webhookId: string; eventId: string; at: number }): string =>
  JSON.stringify({
    test_event: {
      id: test.eventId,
      created_timestamp: String(test.at),
      app_id: test.appId,
      webhook_id: test.webhookId,
      description: 'A test event sent from the developer portal. It carries no user data.',
    },
  });
