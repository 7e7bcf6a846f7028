import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { json, SECURITY } from './common';

/** The service's own routes at the root: what it is. */

export const serviceInfo = createRoute({
  method: 'get',
  path: '/',
  operationId: 'getServiceInfo',
  tags: ['Service'],
  summary: 'What this service is (also a health check)',
  security: SECURITY.public,
  responses: { 200: json(z.object({ service: z.string(), status: z.literal('ok'), docs: z.string() }), 'The service answers') },
});
