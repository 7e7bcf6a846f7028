import type { z } from 'zod';
import { database } from '../db/client';
import { oauthError } from '../errors';
import { apiRouter, fieldErrors } from '../http/validation';
import { clientSettings, clientView, saveClientSettings } from '../oauth/clients';
import { redeemCode, revokeByToken, rotateRefreshToken } from '../oauth/tokens';
import { getClient, putClient, revokeRequest, revokeUserToken, tokenRequest, userToken } from './contracts/oauth2-user';

/** A form body validated as an OAuth request: errors are RFC 6749 `invalid_request` (or `unsupported_grant_type`). */
function parseOAuth<S extends z.ZodType>(schema: S, fields: Record<string, string>): z.output<S> {
  const result = schema.safeParse(fields);
  if (result.success) return result.data;
  const errors = fieldErrors(result.error);
  const grantType = errors.find((e) => e.parameter === 'grant_type');
  if (grantType && fields.grant_type) {
    throw oauthError(
      'unsupported_grant_type',
      `grant_type ${fields.grant_type} is not supported here; use authorization_code or refresh_token`,
    );
  }
  throw oauthError('invalid_request', errors[0].message, { errors });
}

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' } as const;

/** OAuth 2.0 for user context (the contracts in src/routes/contracts/oauth2-user.ts say what each route is). */
export const oauth2User = apiRouter();
oauth2User
  .openapi(userToken, async (c) => {
    const app = c.get('app');
    const request = parseOAuth(tokenRequest, c.get('form')!);
    const settings = c.get('settings');
    const tokens =
      request.grant_type === 'authorization_code'
        ? await redeemCode(c.env, settings, {
            appId: app.id,
            code: request.code,
            redirectUri: request.redirect_uri,
            codeVerifier: request.code_verifier,
          })
        : await rotateRefreshToken(c.env, settings, { appId: app.id, refreshToken: request.refresh_token, scope: request.scope });
    return c.json(tokens, 200, NO_STORE);
  })
  .openapi(revokeUserToken, async (c) => {
    const { token } = parseOAuth(revokeRequest, c.get('form')!);
    await revokeByToken(c.env, c.get('app').id, token);
    return c.json({ revoked: true as const }, 200, NO_STORE);
  })
  .openapi(getClient, async (c) => {
    const app = c.get('app');
    return c.json({ data: clientView(app, await clientSettings(database(c.env), app.id)) }, 200);
  })
  .openapi(putClient, async (c) => {
    const app = c.get('app');
    return c.json({ data: clientView(app, await saveClientSettings(database(c.env), app.id, c.req.valid('json'))) }, 200);
  });
