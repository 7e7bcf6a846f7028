import type { Activity, TimedActivity } from './activities';

/**
 * Who an activity concerns on Account Activity (AAA) webhooks, and which scope an app needs to receive
 * it (docs/events.md, "Activity types"). This is the one place that decides "who gets this event" for
 * AAA; the X Activity API has its own table (xaa-events.ts). When in doubt it names fewer users.
 */
export const REQUIRED_SCOPE = {
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
} as const satisfies Partial<Record<Activity['type'], string>>;

/** The activity types Account Activity webhooks receive; the newer ones exist only in XAA. */
export type AaaActivityType = keyof typeof REQUIRED_SCOPE;
export type AaaActivity = Extract<TimedActivity, { type: AaaActivityType }>;
export const isAaa = (activity: TimedActivity): activity is AaaActivity => Object.hasOwn(REQUIRED_SCOPE, activity.type);

export function audienceOf(activity: Activity): string[] {
  const users = new Set<string>();
  const add = (id: string | undefined) => id && users.add(id);
  switch (activity.type) {
    case 'tweet_create': {
      const { tweet } = activity;
      add(tweet.author.id);
      // A protected author's tweet reaches only the author: not the users it replies to or mentions.
      if (!tweet.author.protected) {
        add(tweet.in_reply_to_user_id);
        tweet.mentions?.forEach(add);
        add(tweet.quoted_user_id);
        add(tweet.retweeted_user_id);
      }
      break;
    }
    case 'tweet_delete':
      add(activity.author_id);
      break;
    case 'favorite':
      add(activity.user.id);
      add(activity.tweet.author.id);
      break;
    case 'follow':
      add(activity.source.id);
      add(activity.target.id);
      break;
    case 'unfollow':
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute':
      add(activity.source.id);
      break;
    case 'direct_message':
      add(activity.message.sender.id);
      add(activity.message.recipient.id);
      break;
    case 'dm_typing':
      add(activity.recipient.id);
      break;
    case 'dm_read':
      add(activity.other.id);
      break;
    default:
      // profile_update, spaces, broadcasts and encrypted chat have no Account Activity event.
      break;
  }
  return [...users];
}

export const hasScope = (grantedScope: string, required: string): boolean => grantedScope.split(' ').includes(required);
