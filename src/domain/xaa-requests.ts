import { z } from 'zod';
import { XAA_EVENT_TYPES, type XaaEventType, type XaaFilter, xaaRule } from './xaa-events';

/**
 * The X Activity API's subscription requests (docs/xaa.md, "Subscriptions"): their shapes, exactly
 * as X's OpenAPI document has them, and the rules a filter must follow for its event type. Pure.
 */
const numericId = (what: string) => z.string({ error: `${what} must be a string` }).regex(/^[0-9]{1,19}$/, `${what} must be 1-19 digits`);

/** Types X has that this service does not produce: named, so the answer says why. */
const NOT_OFFERED: Record<string, string> = {
  'news.new': 'news.new is not offered by this service: it has no source of news events',
  'oauth.revoke': 'oauth.revoke cannot be subscribed to: every XAA target of the app receives it',
};

const eventTypeSchema = z.string({ error: 'event_type is required and must be a string' }).superRefine((value, ctx) => {
  if (Object.hasOwn(XAA_EVENT_TYPES, value)) return;
  ctx.addIssue({
    code: 'custom',
    message: NOT_OFFERED[value] ?? `event_type must be one of ${Object.keys(XAA_EVENT_TYPES).join(', ')}`,
  });
});

const tagSchema = z
  .string({ error: 'tag must be a string' })
  .min(1, 'tag must be 1-200 characters')
  .max(200, 'tag must be 1-200 characters');

export const createSubscriptionSchema = z.strictObject({
  event_type: eventTypeSchema,
  filter: z.strictObject(
    {
      user_id: numericId('filter.user_id'),
      direction: z.enum(['inbound', 'outbound'], { error: 'filter.direction must be inbound or outbound' }).optional(),
      keyword: z
        .string({ error: 'filter.keyword must be a string' })
        .trim()
        .min(1, 'filter.keyword must be 1-150 characters')
        .max(150, 'filter.keyword must be 1-150 characters')
        .optional(),
    },
    { error: 'filter is required: an object with user_id' },
  ),
  tag: tagSchema.optional(),
  webhook_id: numericId('webhook_id').optional(),
});
export type CreateSubscriptionRequest = z.output<typeof createSubscriptionSchema>;

export const updateSubscriptionSchema = z
  .strictObject({ tag: tagSchema.optional(), webhook_id: numericId('webhook_id').optional() })
  .refine((body) => body.tag !== undefined || body.webhook_id !== undefined, {
    message: 'give tag and/or webhook_id; a new filter or event type needs a new subscription',
  });

/** `?ids=a,b,c` of the bulk delete: 1-100 subscription ids, duplicates counted once. */
export const deleteManyQuery = z.object({
  ids: z
    .string({ error: 'ids is required: a comma-separated list of subscription ids' })
    .transform((value) => [...new Set(value.split(',').map((id) => id.trim()))])
    .pipe(z.array(numericId('each of ids')).min(1, 'ids must name 1-100 subscriptions').max(100, 'ids must name 1-100 subscriptions')),
});

/** A rule a request broke: which field, what to fix, and X's name for it. */
export interface RequestProblem {
  status: 400 | 403;
  parameter: string;
  message: string;
  reason: string;
}

/**
 * The rules of one event type for a filter and a caller: `direction` only where the type has one,
 * `keyword` only where its events have text, and for mute and block (only the acting user hears of
 * them) a user token may subscribe only its own user. Whether the filter user authorized the app is
 * the caller's next question (it needs D1).
 */
export function filterProblem(eventType: XaaEventType, filter: XaaFilter, tokenUserId: string | null): RequestProblem | null {
  const rule = xaaRule(eventType);
  if (filter.direction && !rule.directional) {
    return {
      status: 400,
      parameter: 'filter.direction',
      message: `${eventType} has no direction; only like.create takes one`,
      reason: 'InvalidFilter',
    };
  }
  if (filter.keyword !== undefined && !rule.hasText) {
    return {
      status: 400,
      parameter: 'filter.keyword',
      message: `${eventType} events have no text to match a keyword against`,
      reason: 'InvalidFilter',
    };
  }
  if (rule.actorOnly && tokenUserId !== null && tokenUserId !== filter.user_id) {
    return {
      status: 403,
      parameter: 'filter.user_id',
      message: `${eventType} is delivered only for the user who acts: with a user token, filter.user_id must be that user (${tokenUserId})`,
      reason: 'UserNotAuthorized',
    };
  }
  return null;
}
