import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { requirePlatform } from '../../auth/platform';
import { activitySchema } from '../../domain/activities';
import { byPlatform, rateLimit } from '../../http/rate-limit';
import { json, parsedByHandler, problems, SECURITY } from './common';

/** `/internal/activity`: the platform posts what happened on it (docs/events.md). */

export const MAX_BATCH = 100;

/** One activity, or a batch of 1-100; each one is checked with `activitySchema` (the handler reports each by index). */
const activity = activitySchema.meta({ id: 'Activity', description: 'One activity (docs/events.md)' });
export const ingestBody = z.union([
  activity,
  z.object({ activities: z.array(activity).min(1).max(MAX_BATCH) }).meta({ id: 'ActivityBatch' }),
]);

export const ingestActivity = createRoute({
  method: 'post',
  path: '/',
  operationId: 'ingestActivity',
  tags: ['Platform: activity'],
  summary: 'Post activity for delivery',
  description:
    'One activity or `{"activities":[…]}` (1-100). Any invalid element rejects the whole batch, naming each one (`activities[3].type`); a posted activity id is delivered once.',
  security: SECURITY.platform,
  middleware: [requirePlatform, rateLimit('platform:ingest', byPlatform)] as const,
  request: { body: { required: true, content: { 'application/json': { schema: parsedByHandler('ActivityIngest', ingestBody) } } } },
  responses: {
    202: json(
      z.object({
        data: z.object({
          accepted: z.number().int(),
          event_ids: z.array(z.string()),
          duplicates: z.number().int().meta({ description: 'Activities whose id was posted before (not delivered again)' }),
        }),
      }),
      'Accepted for delivery',
      { rateLimited: true },
    ),
    ...problems(400, 401, 413, 415, 429),
  },
});
