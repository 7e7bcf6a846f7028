import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { activeConsumer } from '../../auth/consumer';
import { CODE_VERIFIER_PATTERN } from '../../domain/pkce';
import { byApp, rateLimit } from '../../http/rate-limit';
import { jsonRequest } from '../../http/validation';
import { oauthClient } from '../../oauth/client-authentication';
import { clientSettingsSchema } from '../../oauth/clients';
import { formBody, isoTime, json, jsonBody, oauthProblems, problems, SECURITY } from './common';

/**
 * `/2/oauth2`: OAuth 2.0 for user context, X's paths: the token endpoint (authorization code with
 * PKCE, refresh with rotation), revocation (RFC 7009), and the app's client settings (an extension:
 * X keeps them in its developer portal). The consent page is `GET /i/oauth2/authorize`.
 */

const tags = ['OAuth 2.0 (user)'];

const field = (name: string, max = 2048) =>
  z
    .string({ error: `${name} is required` })
    .min(1, `${name} is required`)
    .max(max);

export const tokenRequest = z.discriminatedUnion(
  'grant_type',
  [
    z.object({
      grant_type: z.literal('authorization_code'),
      code: field('code'),
      redirect_uri: field('redirect_uri'),
      code_verifier: z
        .string({ error: 'code_verifier is required (PKCE)' })
        .regex(CODE_VERIFIER_PATTERN, 'code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~'),
      client_id: z
        .string()
        .optional()
        .meta({ description: 'A public client’s id (its consumer key); a confidential client uses HTTP Basic' }),
    }),
    z.object({
      grant_type: z.literal('refresh_token'),
      refresh_token: field('refresh_token'),
      scope: z.string().max(2048).optional(),
      client_id: z.string().optional(),
    }),
  ],
  { error: 'grant_type must be authorization_code or refresh_token' },
);
export const revokeRequest = z.object({
  token: field('token'),
  token_type_hint: z.string().max(50).optional(),
  client_id: z.string().optional(),
});

const NO_STORE = z.object({ 'cache-control': z.literal('no-store'), pragma: z.literal('no-cache') });

export const userToken = createRoute({
  method: 'post',
  path: '/token',
  operationId: 'issueUserToken',
  tags,
  summary: 'Exchange a code, or refresh, for a user access token',
  description:
    'Authorization code with PKCE (S256), or a refresh token (rotated: the old one stops working). Errors are RFC 6749 JSON that is also a problem body.',
  security: SECURITY.oauthClient,
  middleware: [oauthClient, rateLimit('oauth2:user-token', byApp)] as const,
  request: { body: formBody('UserTokenRequest', tokenRequest) },
  responses: {
    200: {
      description: 'The tokens; `refresh_token` only with `offline.access`',
      headers: NO_STORE,
      content: {
        'application/json': {
          schema: z.object({
            token_type: z.literal('bearer'),
            expires_in: z.number().int(),
            access_token: z.string(),
            scope: z.string(),
            refresh_token: z.string().optional(),
          }),
        },
      },
    },
    ...oauthProblems(400, 401, 403),
    ...problems(413, 415, 429),
  },
});

export const revokeUserToken = createRoute({
  method: 'post',
  path: '/revoke',
  operationId: 'revokeUserToken',
  tags,
  summary: 'Revoke a token (RFC 7009)',
  description: 'Ends the user’s authorization of the app (every token of it). An unknown token is answered the same way.',
  security: SECURITY.oauthClient,
  middleware: [oauthClient, rateLimit('oauth2:revoke', byApp)] as const,
  request: { body: formBody('RevokeTokenRequest', revokeRequest) },
  responses: {
    200: { description: 'Revoked', headers: NO_STORE, content: { 'application/json': { schema: z.object({ revoked: z.literal(true) }) } } },
    ...oauthProblems(400, 401, 403),
    ...problems(413, 415, 429),
  },
});

/** The body of both registration endpoints (this one and the platform's). */
export const oauthClientSettings = clientSettingsSchema.meta({ id: 'OAuthClientSettings' });

export const oauthClientView = z
  .object({
    client_id: z.string().meta({ description: 'The app’s consumer key' }),
    client_type: z.enum(['confidential', 'public']).nullable().meta({ description: 'null until the app registers' }),
    redirect_uris: z.array(z.string()),
    updated_at: isoTime.nullable(),
  })
  .meta({ id: 'OAuthClient' });

export const getClient = createRoute({
  method: 'get',
  path: '/client',
  operationId: 'getOAuthClient',
  tags,
  summary: 'The app’s OAuth 2.0 client settings',
  security: SECURITY.consumer,
  middleware: [activeConsumer, rateLimit('oauth2:client', byApp)] as const,
  responses: {
    200: json(z.object({ data: oauthClientView }), 'The settings', { rateLimited: true }),
    ...problems(401, 403, 429),
  },
});

export const putClient = createRoute({
  method: 'put',
  path: '/client',
  operationId: 'putOAuthClient',
  tags,
  summary: 'Register the app as an OAuth 2.0 client',
  description: 'The redirect URIs listed are the only ones that can receive the app’s codes (exact match).',
  security: SECURITY.consumer,
  middleware: [activeConsumer, rateLimit('oauth2:client', byApp), jsonRequest] as const,
  request: { body: jsonBody(oauthClientSettings) },
  responses: {
    200: json(z.object({ data: oauthClientView }), 'The settings now', { rateLimited: true }),
    ...problems(400, 401, 403, 413, 415, 429),
  },
});
