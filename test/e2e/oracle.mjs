// The test's own idea of who an activity concerns and what scope it needs, written from docs/events.md
// independently of src/domain/audience.ts, so the end-to-end run checks the service against its documented rules.
export const SCOPE = {
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
};

export const KEY = {
  tweet_create: 'tweet_create_events',
  tweet_delete: 'tweet_delete_events',
  favorite: 'favorite_events',
  follow: 'follow_events',
  unfollow: 'follow_events',
  block: 'block_events',
  unblock: 'block_events',
  mute: 'mute_events',
  unmute: 'mute_events',
  direct_message: 'direct_message_events',
  dm_typing: 'direct_message_indicate_typing_events',
  dm_read: 'direct_message_mark_read_events',
};

export function concerns(a) {
  switch (a.type) {
    case 'tweet_create': {
      const t = a.tweet;
      if (t.author.protected) return [t.author.id];
      return [t.author.id, t.in_reply_to_user_id, ...(t.mentions ?? []), t.quoted_user_id, t.retweeted_user_id].filter(Boolean);
    }
    case 'tweet_delete':
      return [a.author_id];
    case 'favorite':
      return [a.user.id, a.tweet.author.id];
    case 'follow':
      return [a.source.id, a.target.id];
    case 'unfollow':
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute':
      return [a.source.id];
    case 'direct_message':
      return [a.message.sender.id, a.message.recipient.id];
    case 'dm_typing':
      return [a.recipient.id];
    case 'dm_read':
      return [a.other.id];
    default:
      throw new Error(`oracle does not know ${a.type}`);
  }
}

/**
 * Expected deliveries as "app|webhookId|userId|activityId", given who each app subscribed on which
 * webhook and with which scopes: { [app]: { webhooks: [id], users: { [userId]: [scopes] } } }.
 */
export function expectedDeliveries(activities, tenants) {
  const out = new Set();
  for (const a of activities) {
    for (const [app, t] of Object.entries(tenants)) {
      for (const user of new Set(concerns(a))) {
        const scopes = t.users[user];
        if (!scopes?.includes(SCOPE[a.type])) continue;
        for (const webhookId of t.webhooks) out.add(`${app}|${webhookId}|${user}|${a.id}`);
      }
    }
  }
  return out;
}
