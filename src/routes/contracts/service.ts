import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { referenceHeaders } from '../../http/reference-headers';
import { htmlPage, json, SECURITY } from './common';

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

export const openApiDocument = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'getOpenApiDocument',
  tags: ['Service'],
  summary: 'This document: OpenAPI 3.1',
  description:
    'Generated from the same schemas that validate requests. Feed it to an OpenAPI client generator (docs/api.md, "OpenAPI document and reference").',
  security: SECURITY.public,
  responses: {
    200: json(z.record(z.string(), z.unknown()).meta({ description: 'An OpenAPI 3.1 document' }), 'The OpenAPI document'),
  },
});

export const apiReference = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'getApiReference',
  tags: ['Service'],
  summary: 'The API reference, as a page',
  description: 'This document rendered for people: no script, nothing loaded from elsewhere.',
  security: SECURITY.public,
  middleware: [referenceHeaders] as const,
  responses: { 200: htmlPage('The reference') },
});
