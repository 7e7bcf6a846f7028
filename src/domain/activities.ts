import { z } from 'zod';

/**
 * The activities the platform posts (docs/events.md, "Posting activities"). Ids of users, tweets and messages are
 * numeric strings; the activity id is the platform's own idempotency key.
 */
const numericId = z.string().regex(/^[0-9]{1,19}$/, 'must be a numeric id string of 1-19 digits');
const text = (max: number) => z.string().max(max);

/** A User: the named fields are checked, any extra fields are passed through to payloads. */
export const userSchema = z.looseObject({
  id: numericId,
  name: text(100),
  screen_name: text(50),
  protected: z.boolean().optional(),
});

const entitiesSchema = z.record(z.string(), z.unknown());

export const tweetSchema = z.object({
  id: numericId,
  text: text(25_000),
  author: userSchema,
  created_at: z.string().max(64).optional(),
  entities: entitiesSchema.optional(),
  in_reply_to_user_id: numericId.optional(),
  mentions: z.array(numericId).max(100).optional(),
  quoted_user_id: numericId.optional(),
  retweeted_user_id: numericId.optional(),
  // The posts this one replies to, quotes or reposts: only XAA's v2 Post carries them (referenced_tweets).
  in_reply_to_tweet_id: numericId.optional(),
  quoted_tweet_id: numericId.optional(),
  retweeted_tweet_id: numericId.optional(),
});

/** The profile fields whose changes XAA reports as `profile.update.<field>`. */
export const PROFILE_FIELDS = [
  'bio',
  'profile_picture',
  'banner_picture',
  'screenname',
  'handle',
  'geo',
  'url',
  'verified_badge',
  'affiliate_badge',
] as const;

/** Spaces and broadcasts are named by X's short alphanumeric ids (`1qxvvvyLLdnxB`). */
const broadcastId = z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'must be 1-32 letters or digits');

/**
 * Encrypted chat (XChat) material. The service never decrypts it: each field is passed through to
 * the XAA payload exactly as the platform sent it, and only its size and form are checked here.
 */
const opaque = (max: number) => z.string().min(1).max(max);
const chatMaterialSchema = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -'),
  created_at_msec: z
    .string()
    .regex(/^[0-9]{1,16}$/, 'must be epoch milliseconds as a string')
    .optional(),
  encoded_event: opaque(64 * 1024).optional(),
  conversation_token: opaque(4096).optional(),
  conversation_key_version: opaque(64).optional(),
  conversation_key_change_event: opaque(64 * 1024).optional(),
  message_event_signature: z.record(z.string().max(64), opaque(4096)).optional(),
});
const conversationId = z.string().regex(/^[0-9]{1,19}(:[0-9]{1,19})*$|^g[0-9]{1,19}$/, 'must be an X conversation id');

/** ISO-8601 or epoch milliseconds; normalized to epoch ms. */
const createdAt = z
  .union([z.number().int().nonnegative(), z.string().max(64)])
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : Date.parse(value);
    if (!Number.isFinite(ms) || (typeof value === 'string' && !/^\d{4}-\d{2}-\d{2}T/.test(value))) {
      ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time or epoch milliseconds' });
      return z.NEVER;
    }
    return ms;
  })
  .optional();

const base = {
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ -'),
  created_at: createdAt,
};
const pair = { source: userSchema, target: userSchema };
const broadcast = {
  host: userSchema,
  broadcast_id: broadcastId,
  title: text(200).optional(),
  language: z
    .string()
    .regex(/^[a-z]{2,3}(-[A-Za-z]{2,4})?$/, 'must be a language code such as en or pt-BR')
    .optional(),
};

export const activitySchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...base, type: z.literal('tweet_create'), tweet: tweetSchema }),
    z.object({
      ...base,
      type: z.literal('tweet_delete'),
      tweet_id: numericId,
      author_id: numericId,
      // A protected author's deletions are never delivered through XAA; AAA ignores this field.
      author_protected: z.boolean().optional(),
    }),
    z.object({ ...base, type: z.literal('favorite'), user: userSchema, tweet: tweetSchema }),
    z.object({ ...base, type: z.literal('follow'), ...pair }),
    z.object({ ...base, type: z.literal('unfollow'), ...pair }),
    z.object({ ...base, type: z.literal('block'), ...pair }),
    z.object({ ...base, type: z.literal('unblock'), ...pair }),
    z.object({ ...base, type: z.literal('mute'), ...pair }),
    z.object({ ...base, type: z.literal('unmute'), ...pair }),
    z.object({
      ...base,
      type: z.literal('direct_message'),
      message: z.object({
        id: numericId,
        sender: userSchema,
        recipient: userSchema,
        text: text(10_000),
        entities: entitiesSchema.optional(),
        source_app_id: numericId.optional(),
      }),
    }),
    z.object({ ...base, type: z.literal('dm_typing'), sender: userSchema, recipient: userSchema }),
    z.object({
      ...base,
      type: z.literal('dm_read'),
      reader: userSchema,
      other: userSchema,
      last_read_event_id: numericId,
    }),
    // Only the X Activity API has events for these (docs/xaa.md); Account Activity webhooks get none.
    z.object({
      ...base,
      type: z.literal('profile_update'),
      user: userSchema,
      field: z.enum(PROFILE_FIELDS, { error: `field must be one of ${PROFILE_FIELDS.join(', ')}` }),
      before: text(1000),
      after: text(1000),
    }),
    z.object({ ...base, type: z.literal('space_start'), host: userSchema, space_id: broadcastId }),
    z.object({ ...base, type: z.literal('space_end'), host: userSchema, space_id: broadcastId }),
    z.object({ ...base, type: z.literal('broadcast_start'), ...broadcast }),
    z.object({ ...base, type: z.literal('broadcast_end'), ...broadcast }),
    z.object({
      ...base,
      type: z.literal('broadcast_chat'),
      owner: userSchema,
      author: userSchema,
      broadcast_id: broadcastId,
      message_id: numericId,
      text: text(1000),
    }),
    z.object({
      ...base,
      type: z.literal('chat_message'),
      sender_id: numericId,
      recipient_ids: z.array(numericId).min(1).max(100),
      conversation_id: conversationId,
      message: chatMaterialSchema.extend({ encoded_event: opaque(64 * 1024) }),
    }),
    z.object({
      ...base,
      type: z.literal('chat_join'),
      user_id: numericId,
      conversation_id: conversationId,
      event: chatMaterialSchema,
    }),
  ],
  // Read when an input fails, after ACTIVITY_TYPES below is set.
  { error: (): string => `type must be one of ${ACTIVITY_TYPES.join(', ')}` },
);

/** The `type` of every activity the platform may post. */
const ACTIVITY_TYPES: string[] = activitySchema.options.map((o) => o.shape.type.value);

export type Activity = z.output<typeof activitySchema>;
export type User = z.output<typeof userSchema>;
export type Tweet = z.output<typeof tweetSchema>;

/** `created_at` resolved: the activity's own time, or when it was received. */
export type TimedActivity = Activity & { created_at: number };
