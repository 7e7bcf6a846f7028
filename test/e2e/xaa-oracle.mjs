// The test's own idea of the X Activity API's rules, written from the project's XAA contract and
// docs/xaa.md (which event an activity is, for which filter user, which need which scope), without
// reading src/domain/xaa-events.ts, so the end-to-end and chaos runs check the service against its
// documented contract rather than against itself.

/** Scope each event type needs; null: public (any user, no authorization). */
export const XAA_SCOPE = {
  'post.create': null,
  'post.delete': null,
  'post.mention.create': 'tweet.read',
  'post.reply.create': 'tweet.read',
  'post.quote.create': 'tweet.read',
  'post.repost.create': 'tweet.read',
  'like.create': 'like.read',
  'follow.follow': 'follows.read',
  'follow.unfollow': 'follows.read',
  'block.block': 'block.read',
  'block.unblock': 'block.read',
  'mute.mute': 'mute.read',
  'mute.unmute': 'mute.read',
  'dm.sent': 'dm.read',
  'dm.received': 'dm.read',
  'dm.indicate_typing': 'dm.read',
  'dm.read': 'dm.read',
  'chat.sent': 'dm.read',
  'chat.received': 'dm.read',
  'chat.conversation_join': 'dm.read',
  'profile.update.bio': null,
  'profile.update.url': null,
  'spaces.start': null,
  'spaces.end': null,
  'broadcast.start': null,
  'broadcast.end': null,
  'broadcast.chat': 'broadcast.read',
};

/**
 * The XAA events of an activity: [{ type, user, directions?, text? }].
 * @param {any} a
 */
export function xaaEvents(a) {
  /** @type {{ type: string, user: string, directions?: string[], text?: string }[]} */
  const out = [];
  const push = (/** @type {string} */ type, /** @type {string | undefined} */ user, extra = {}) => {
    if (user) out.push({ type, user, ...extra });
  };
  switch (a.type) {
    case 'tweet_create': {
      const t = a.tweet;
      if (t.author.protected) return []; // never, not even to authorized apps
      const text = t.text;
      push('post.create', t.author.id, { text });
      for (const m of new Set(t.mentions ?? [])) if (m !== t.author.id) push('post.mention.create', m, { text });
      if (t.in_reply_to_user_id !== t.author.id) push('post.reply.create', t.in_reply_to_user_id, { text });
      if (t.quoted_user_id !== t.author.id) push('post.quote.create', t.quoted_user_id, { text });
      if (t.retweeted_user_id !== t.author.id) push('post.repost.create', t.retweeted_user_id, { text });
      return out;
    }
    case 'tweet_delete':
      return a.author_protected ? [] : [{ type: 'post.delete', user: a.author_id }];
    case 'favorite':
      if (a.user.id === a.tweet.author.id) return [{ type: 'like.create', user: a.user.id, directions: ['outbound', 'inbound'] }];
      return [
        { type: 'like.create', user: a.user.id, directions: ['outbound'] },
        { type: 'like.create', user: a.tweet.author.id, directions: ['inbound'] },
      ];
    case 'follow':
    case 'unfollow':
      return [...new Set([a.source.id, a.target.id])].map((user) => ({ type: `follow.${a.type}`, user }));
    case 'block':
    case 'unblock':
    case 'mute':
    case 'unmute':
      // Only the one who blocks or mutes hears of it.
      return [{ type: `${a.type.replace(/^un/, '')}.${a.type}`, user: a.source.id }];
    case 'dm_typing':
      return [{ type: 'dm.indicate_typing', user: a.recipient.id }];
    case 'dm_read':
      return [{ type: 'dm.read', user: a.other.id }];
    case 'space_start':
    case 'space_end':
      return [{ type: `spaces.${a.type.slice('space_'.length)}`, user: a.host.id }];
    case 'broadcast_start':
    case 'broadcast_end':
      return [{ type: `broadcast.${a.type.slice('broadcast_'.length)}`, user: a.host.id }];
    case 'broadcast_chat':
      return [{ type: 'broadcast.chat', user: a.owner.id, text: a.text }];
    case 'chat_join':
      return [{ type: 'chat.conversation_join', user: a.user_id }];
    case 'direct_message':
      return [
        { type: 'dm.sent', user: a.message.sender.id, text: a.message.text },
        { type: 'dm.received', user: a.message.recipient.id, text: a.message.text },
      ];
    case 'profile_update':
      return [{ type: `profile.update.${a.field}`, user: a.user.id }];
    case 'chat_message':
      return [
        { type: 'chat.sent', user: a.sender_id },
        ...a.recipient_ids.map((/** @type {string} */ user) => ({ type: 'chat.received', user })),
      ];
    default:
      throw new Error(`the XAA oracle does not know ${a.type}`);
  }
}

/**
 * Expected XAA deliveries as "app|subscription|activityId": for each subscription
 * ({ app, id, type, user, direction?, keyword? }) and each activity, whether its event reaches it,
 * given each app's authorizations ({ [app]: { [user]: scopes } }).
 * @param {any[]} activities @param {any[]} subscriptions @param {Record<string, Record<string, string[]>>} authorizations
 */
export function expectedXaa(activities, subscriptions, authorizations) {
  const out = new Set();
  for (const a of activities) {
    for (const e of xaaEvents(a)) {
      for (const s of subscriptions) {
        if (s.type !== e.type || s.user !== e.user) continue;
        if (s.direction && !e.directions?.includes(s.direction)) continue;
        if (s.keyword && !e.text?.toLowerCase().includes(s.keyword.toLowerCase())) continue;
        const scope = XAA_SCOPE[/** @type {keyof typeof XAA_SCOPE} */ (e.type)];
        if (scope && !authorizations[s.app]?.[e.user]?.includes(scope)) continue;
        out.add(`${s.app}|${s.id}|${a.id}`);
      }
    }
  }
  return out;
}
