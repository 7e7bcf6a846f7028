import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { consumerCredentials } from '../../auth/consumer';
import { byApp, rateLimit } from '../../http/rate-limit';
import { formBody, json, problems, SECURITY } from './common';

/** `/oauth2`: X's OAuth 2 client credentials (app-only bearer tokens). */

const tags = ['OAuth 2.0 (app)'];

export const clientCredentialsRequest = z.object({
  grant_type: z.literal('client_credentials', { error: 'grant_type must be client_credentials' }),
});
export const invalidateTokenRequest = z.object({ access_token: z.string().min(1).max(200) });

export const issueAppToken = createRoute({
  method: 'post',
  path: '/token',
  operationId: 'issueAppToken',
  tags,
  summary: 'Get an app-only bearer token (client credentials)',
  description: 'A new token per call; an app holds at most 20 live tokens, and issuing one more retires the oldest.',
  security: SECURITY.consumer,
  middleware: [consumerCredentials, rateLimit('oauth2:token', byApp)] as const,
  request: { body: formBody('ClientCredentialsRequest', clientCredentialsRequest) },
  responses: {
    200: json(z.object({ token_type: z.literal('bearer'), access_token: z.string() }), 'The token', { rateLimited: true }),
    ...problems(400, 401, 403, 413, 415, 429),
  },
});

export const invalidateAppToken = createRoute({
  method: 'post',
  path: '/invalidate_token',
  operationId: 'invalidateAppToken',
  tags,
  summary: 'Invalidate one of the app’s bearer tokens',
  description: 'Another app’s token is “not found”.',
  security: SECURITY.consumer,
  middleware: [consumerCredentials, rateLimit('oauth2:invalidate', byApp)] as const,
  request: { body: formBody('InvalidateTokenRequest', invalidateTokenRequest) },
  responses: {
    200: json(z.object({ access_token: z.string() }), 'Invalidated', { rateLimited: true }),
    ...problems(400, 401, 404, 413, 415, 429),
  },
});
