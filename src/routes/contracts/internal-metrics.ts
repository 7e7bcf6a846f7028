import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { json, problems, SECURITY } from './common';

/** `/internal/metrics` (router-level: platform token; not rate limited, the bench reads it). */

const counters = z
  .object({
    worker_invocations: z.number(),
    do_requests: z.number(),
    queue_messages_written: z.number(),
    queue_messages_read: z.number(),
    d1_rows_read: z.number(),
    d1_rows_written: z.number(),
    object_rows_read: z.number(),
    object_rows_written: z.number(),
    outbound_requests: z.number(),
    deliveries: z.number(),
    do_requests_by_method: z
      .record(z.string(), z.number())
      .describe('The Durable Object requests counted in do_requests, by the method called (ingest, claim, report, alarm, rate_limit…)'),
  })
  .meta({ id: 'WorkCounters', description: 'Billable work this isolate did since the last reset' });

const tags = ['Platform: metrics'];

export const readWork = createRoute({
  method: 'get',
  path: '/work',
  operationId: 'getWorkCounters',
  tags,
  summary: 'The billable-work counters',
  security: SECURITY.platform,
  responses: { 200: json(z.object({ data: counters }), 'The counters'), ...problems(401) },
});

export const resetWork = createRoute({
  method: 'delete',
  path: '/work',
  operationId: 'resetWorkCounters',
  tags,
  summary: 'Reset the billable-work counters',
  security: SECURITY.platform,
  responses: { 200: json(z.object({ data: counters }), 'The counters, now zero'), ...problems(401) },
});
