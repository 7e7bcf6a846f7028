import { createRoute } from '@hono/zod-openapi';
import { CODE_CHALLENGE_METHOD, CODE_CHALLENGE_PATTERN } from '../../domain/pkce';
import { KNOWN_SCOPES } from '../../domain/scopes';
import { signedInForm } from '../../http/user-session';
import { MAX_STATE_LENGTH } from '../../oauth/authorize-request';
import { htmlPage, pageForm, pageProblems, redirect, SECURITY } from './common';

/**
 * `/i/oauth2`: the OAuth 2.0 authorization endpoint, a page. Its query is checked by
 * src/oauth/authorize-request.ts, not by a schema: by RFC 6749 a bad request with a trusted
 * redirect URI goes back to the app as `error=…`, so the parameters below are documented from the
 * same constants that checker uses.
 */

const tags = ['User pages'];
const query = (name: string, description: string, schema: Record<string, unknown> = { type: 'string' }) => ({
  name,
  in: 'query' as const,
  required: true,
  description,
  schema,
});

export const showConsent = createRoute({
  method: 'get',
  path: '/authorize',
  operationId: 'authorize',
  tags,
  summary: 'OAuth 2.0 authorization endpoint: the consent page',
  description:
    'The app sends the user’s browser here. Without a session the browser is sent to sign in first. An unknown client or an unregistered `redirect_uri` is refused on a page (never redirected); any other problem goes back to the redirect URI as `error` with `state`. The user’s decision redirects (303) to the redirect URI with `code` and `state`, or `error=access_denied`.',
  security: [...SECURITY.session, {}],
  parameters: [
    query('response_type', 'Must be `code`', { type: 'string', enum: ['code'] }),
    query('client_id', 'The app’s consumer key'),
    query('redirect_uri', 'One of the app’s registered redirect URIs, exactly'),
    query('scope', 'Space-separated scopes', { type: 'string', example: 'tweet.read users.read offline.access' }),
    query('state', 'Returned unchanged to the app', { type: 'string', maxLength: MAX_STATE_LENGTH }),
    query('code_challenge', 'PKCE: base64url SHA-256 of the code verifier', { type: 'string', pattern: CODE_CHALLENGE_PATTERN.source }),
    query('code_challenge_method', `Must be \`${CODE_CHALLENGE_METHOD}\``, { type: 'string', enum: [CODE_CHALLENGE_METHOD] }),
  ],
  responses: {
    200: htmlPage(`The consent page. Scopes it knows: ${KNOWN_SCOPES.join(', ')}`),
    302: redirect('To sign in (no session), or back to the app with `error` and `state`'),
    ...pageProblems(400, 403, 503),
  },
});

export const decideConsent = createRoute({
  method: 'post',
  path: '/authorize',
  operationId: 'decideConsent',
  tags,
  summary: 'The user’s decision on the consent page',
  security: SECURITY.session,
  middleware: [signedInForm] as const,
  request: { body: pageForm('`csrf`, `consent` (the signed request), `decision` (`authorize` or `cancel`)') },
  responses: {
    303: redirect('To the app’s redirect URI with `code` and `state`, or `error=access_denied`'),
    ...pageProblems(400, 401, 403, 404, 413, 415),
  },
});
