import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { authenticateConsumer, hasBasicCredentials } from '../auth/consumer';
import { assertActive } from '../auth/developer';
import { database } from '../db/client';
import { CODE_VERIFIER_PATTERN } from '../domain/pkce';
import { ApiError, oauthError } from '../errors';
import { formFields } from '../http/form';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { fieldErrors, jsonBody } from '../http/validation';
import { clientById, clientSettings, clientSettingsSchema, clientView, saveClientSettings } from '../oauth/clients';
import { redeemCode, revokeByToken, rotateRefreshToken } from '../oauth/tokens';

const field = (name: string, max = 2048) =>
  z
    .string({ error: `${name} is required` })
    .min(1, `${name} is required`)
    .max(max);

const tokenRequest = z.discriminatedUnion(
  'grant_type',
  [
    z.object({
      grant_type: z.literal('authorization_code'),
      code: field('code'),
      redirect_uri: field('redirect_uri'),
      code_verifier: z
        .string({ error: 'code_verifier is required (PKCE)' })
        .regex(CODE_VERIFIER_PATTERN, 'code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~'),
    }),
    z.object({ grant_type: z.literal('refresh_token'), refresh_token: field('refresh_token'), scope: z.string().max(2048).optional() }),
  ],
  { error: 'grant_type must be authorization_code or refresh_token' },
);
const revokeRequest = z.object({ token: field('token'), token_type_hint: z.string().max(50).optional() });

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

/**
 * Who calls the token or revoke endpoint (RFC 6749 §2.3): a confidential client with HTTP Basic
 * (client id = consumer key, secret = consumer secret), a public client by `client_id` alone, since it
 * can keep no secret (PKCE protects its codes). A confidential client must authenticate: its
 * `client_id` alone is refused.
 */
const oauthClient = createMiddleware<HonoEnv>(async (c, next) => {
  const db = database(c.env);
  const fields = formFields(await c.req.arrayBuffer(), c.req.header('content-type'));
  const header = c.req.header('authorization');
  let app: Awaited<ReturnType<typeof authenticateConsumer>>;
  if (hasBasicCredentials(header)) {
    try {
      app = await authenticateConsumer(db, header);
    } catch {
      throw oauthError('invalid_client', 'invalid client credentials (HTTP Basic: client id and client secret)', { basic: true });
    }
    if (fields.client_id !== undefined && fields.client_id !== app.consumerKey) {
      throw oauthError('invalid_request', 'client_id differs from the client that authenticated');
    }
    if (!(await clientSettings(db, app.id))) {
      throw oauthError('unauthorized_client', 'this app has not registered as an OAuth 2.0 client (redirect URIs)');
    }
  } else {
    if (!fields.client_id) {
      throw oauthError('invalid_client', 'authenticate with HTTP Basic (confidential client) or send client_id (public client)');
    }
    const client = await clientById(db, fields.client_id);
    if (!client) throw oauthError('invalid_client', 'unknown client_id');
    if (client.clientType !== 'public') {
      throw oauthError('invalid_client', 'this client is confidential: authenticate with HTTP Basic (client id and client secret)');
    }
    app = client.app;
  }
  if (app.status !== 'active') {
    throw new ApiError('forbidden', `app is ${app.status}, not active`, { reason: 'AppNotActive', oauthError: 'unauthorized_client' });
  }
  c.set('app', app);
  c.set('form', fields);
  await next();
});

/** The developer's own credentials (consumer key and secret) for the client settings. */
const consumer = createMiddleware<HonoEnv>(async (c, next) => {
  const app = await authenticateConsumer(database(c.env), c.req.header('authorization'));
  assertActive(app);
  c.set('app', app);
  await next();
});

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

/**
 * OAuth 2.0 for user context, X's paths: the token endpoint (authorization code with PKCE, refresh
 * with rotation), revocation (RFC 7009), and the app's client settings (an extension: X keeps them in
 * its developer portal). The consent page itself is `GET /i/oauth2/authorize` (src/routes/authorize.tsx).
 */
export const oauth2User = new Hono<HonoEnv>()
  .post('/token', oauthClient, rateLimit('oauth2:user-token', byApp), async (c) => {
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
  /** Ends the user's authorization of the app (every token of it); an unknown token is answered the same way. */
  .post('/revoke', oauthClient, rateLimit('oauth2:revoke', byApp), async (c) => {
    const { token } = parseOAuth(revokeRequest, c.get('form')!);
    await revokeByToken(c.env, c.get('app').id, token);
    return c.json({ revoked: true }, 200, NO_STORE);
  })
  .get('/client', consumer, rateLimit('oauth2:client', byApp), async (c) => {
    const app = c.get('app');
    return c.json({ data: clientView(app, await clientSettings(database(c.env), app.id)) });
  })
  .put('/client', consumer, rateLimit('oauth2:client', byApp), jsonBody(clientSettingsSchema), async (c) => {
    const app = c.get('app');
    return c.json({ data: clientView(app, await saveClientSettings(database(c.env), app.id, c.req.valid('json'))) });
  });
