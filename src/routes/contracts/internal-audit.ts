import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { timeQuery } from '../../http/validation';
import { isoTime, json, numericId, problems, SECURITY } from './common';

/** `/internal/audit`: the independent check of the ledgers (router-level: platform token, `platform:other`). */

export const verifyQuery = z.strictObject({
  from: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds; default: `to` minus 24 h' }),
  to: timeQuery.optional().meta({ description: 'ISO-8601 or epoch milliseconds, exclusive; default: now' }),
  app_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  cursor: z
    .string()
    .regex(/^[0-9]{1,19}:[0-9]{1,19}$/, 'must be a next_cursor this endpoint returned')
    .optional(),
  max_entries: z.coerce.number().int().min(1).max(20_000).default(5_000),
});

const auditViolation = z
  .object({
    app_id: numericId,
    app_name: z.string(),
    for_user_id: z.string().nullable(),
    event_type: z.string(),
    event_id: z.string(),
    delivery_id: z.string(),
    webhook_id: numericId.nullable().meta({ description: 'null for a line on the app’s X Activity API stream' }),
    subscription_id: numericId.optional().meta({ description: 'The X Activity API subscription it was for' }),
    destination: z.string().nullable(),
    attempt: z.number().int(),
    outcome: z.string(),
    ingested_at: isoTime.nullable(),
    attempted_at: isoTime.nullable(),
    started_at: isoTime.nullable(),
    reason: z.string().meta({ description: 'Which rule the attempt broke' }),
  })
  .meta({ id: 'AuditViolation' });

export const verifyLedgers = createRoute({
  method: 'get',
  path: '/verify',
  operationId: 'verifyLedgers',
  tags: ['Platform: audit'],
  summary: 'Audit what reached receivers against the kept history',
  description:
    'Re-checks every attempt that did or may have reached a receiver in [from, to) against D1’s kept history, independently of the objects that decided to send. Bounded work per request: follow `meta.next_cursor`. Each violation names the app, the user, the event and the destination.',
  security: SECURITY.platform,
  request: { query: verifyQuery },
  responses: {
    200: json(
      z.object({
        data: z.object({
          from: isoTime.nullable(),
          to: isoTime.nullable(),
          checked: z.number().int(),
          violations: z.array(auditViolation),
        }),
        meta: z.object({ next_cursor: z.string().optional() }),
      }),
      'One page of the audit',
    ),
    ...problems(400, 401, 429),
  },
});
