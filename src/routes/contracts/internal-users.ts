import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { APP_STATUSES } from '../../db/schema';
import { idParam, isoTime, json, numericId, problems, SECURITY } from './common';

/** `/internal/users` (router-level: platform token, `platform:other`). */

/** One app in a user's access report (src/delivery/access-report.ts). */
export const appAccess = z
  .object({
    app_id: numericId,
    name: z.string(),
    status: z.enum(APP_STATUSES),
    authorizations: z.array(
      z.object({ scope: z.string(), granted_at: isoTime.nullable(), ended_at: isoTime.nullable(), end_reason: z.string().nullable() }),
    ),
    subscriptions: z.array(
      z.object({
        webhook_id: numericId,
        subscribed_at: isoTime.nullable(),
        ended_at: isoTime.nullable(),
        end_reason: z.string().nullable(),
      }),
    ),
    received: z.array(
      z.object({
        event_type: z.string(),
        delivered: z.number().int(),
        answered_non_2xx: z.number().int(),
        outcome_unknown: z.number().int().meta({ description: 'Handed out with no outcome reported: the receiver may have it' }),
        first_at: isoTime.nullable(),
        last_at: isoTime.nullable(),
      }),
    ),
  })
  .meta({ id: 'AppAccess' });

export const accessReport = z.object({ user_id: numericId, apps: z.array(appAccess) }).meta({ id: 'AccessReport' });

export const userAccess = createRoute({
  method: 'get',
  path: '/{user_id}/access',
  operationId: 'getUserAccessReport',
  tags: ['Platform: users'],
  summary: 'A user’s access report',
  description: 'Every app the user ever authorized, and what it received of their data.',
  security: SECURITY.platform,
  request: { params: z.object({ user_id: idParam('The user') }) },
  responses: { 200: json(z.object({ data: accessReport }), 'The report'), ...problems(400, 401, 429) },
});
