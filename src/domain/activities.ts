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
});

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

export const activitySchema = z.discriminatedUnion(
  'type',
  [
    z.object({ ...base, type: z.literal('tweet_create'), tweet: tweetSchema }),
    z.object({ ...base, type: z.literal('tweet_delete'), tweet_id: numericId, author_id: numericId }),
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
