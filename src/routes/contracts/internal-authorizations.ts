import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { KNOWN_SCOPES } from '../../domain/scopes';
import { jsonRequest } from '../../http/validation';
import { idParam, json, jsonBody, numericId, problems, SECURITY } from './common';

/**
 * `/internal/authorizations`: for platforms that run their own consent. Every route needs the platform
 * token and counts against `platform:other` (router-level middleware).
 */

const tags = ['Platform: authorizations'];
const id = (what: string) => z.string().regex(/^[0-9]{1,19}$/, `${what} must be a numeric id of 1-19 digits`);

export const grantBody = z
  .strictObject({
    app_id: id('app_id'),
    user_id: id('user_id'),
    scopes: z
      .array(z.enum(KNOWN_SCOPES, { error: (i) => `unknown scope ${JSON.stringify(i.input)}` }))
      .min(1)
      .max(KNOWN_SCOPES.length * 2),
  })
  .meta({ id: 'GrantAuthorizationRequest' });

export const grantAuthorization = createRoute({
  method: 'post',
  path: '/',
  operationId: 'grantAuthorization',
  tags,
  summary: 'Record that a user authorized an app',
  description:
    'Called after the user consented on the platform. A grant for a user who already authorized the app supersedes the previous one (new token, new scopes); the old token stops working.',
  security: SECURITY.platform,
  middleware: [jsonRequest] as const,
  request: { body: jsonBody(grantBody) },
  responses: {
    201: json(
      z.object({
        data: z.object({
          access_token: z.string().meta({ description: 'The user access token; shown only here' }),
          token_type: z.literal('bearer'),
          scope: z.string().meta({ description: 'Sorted, space-separated' }),
          app_id: numericId,
          user_id: numericId,
        }),
      }),
      'Granted',
    ),
    ...problems(400, 401, 403, 404, 413, 415, 429),
  },
});

export const revokeAuthorization = createRoute({
  method: 'delete',
  path: '/{app_id}/{user_id}',
  operationId: 'revokeAuthorization',
  tags,
  summary: 'Revoke a user’s authorization of an app',
  description: 'Ends the authorization and every subscription of that user in that app; the app is sent a revoke event.',
  security: SECURITY.platform,
  request: { params: z.object({ app_id: idParam('The app'), user_id: idParam('The user') }) },
  responses: {
    200: json(z.object({ data: z.object({ revoked: z.literal(true) }) }), 'Revoked'),
    ...problems(400, 401, 404, 429),
  },
});
