import { createRoute } from '@hono/zod-openapi';
import { signedInForm } from '../../http/user-session';
import { htmlPage, pageForm, pageProblems, redirect, SECURITY } from './common';

/** `/i/session`: sign-in and sign-out of the user pages (docs/operations.md, "User sign-in"). */

const tags = ['User pages'];
const query = (name: string, description: string) => ({
  name,
  in: 'query' as const,
  required: true,
  description,
  schema: { type: 'string' as const },
});

export const signInCallback = createRoute({
  method: 'get',
  path: '/callback',
  operationId: 'signInCallback',
  tags,
  summary: 'Where the platform’s sign-in sends the browser back',
  description:
    'Checks the platform’s signed assertion against this browser’s sign-in attempt, starts a session and goes back to the page that asked.',
  security: SECURITY.public,
  parameters: [query('assertion', 'The platform’s signed statement of who signed in')],
  responses: { 303: redirect('Back to the page that sent the browser to sign in'), ...pageProblems(400, 401, 503) },
});

const devOnly = 'Development only: with `DEV_LOGIN` on and on a loopback host; anywhere else a 404.';

export const devLoginPage = createRoute({
  method: 'get',
  path: '/dev-login',
  operationId: 'devLoginPage',
  tags,
  summary: 'The development sign-in page',
  description: devOnly,
  security: SECURITY.public,
  parameters: [query('return_to', 'This service’s own /i/session/callback'), query('nonce', 'The sign-in attempt’s nonce')],
  responses: { 200: htmlPage('Pick a user id'), ...pageProblems(400, 404) },
});

export const devLogin = createRoute({
  method: 'post',
  path: '/dev-login',
  operationId: 'devLogin',
  tags,
  summary: 'Sign in as a user id (development)',
  description: devOnly,
  security: SECURITY.public,
  request: { body: pageForm('`return_to`, `nonce`, `user_id`') },
  responses: { 303: redirect('To /i/session/callback with a signed assertion'), ...pageProblems(400, 404, 413, 415) },
});

export const signOut = createRoute({
  method: 'post',
  path: '/logout',
  operationId: 'signOut',
  tags,
  summary: 'Sign out',
  description: 'Clears the session cookie. Apps the user authorized keep their access until it is revoked.',
  security: SECURITY.session,
  middleware: [signedInForm] as const,
  request: { body: pageForm('`csrf`') },
  responses: { 200: htmlPage('Signed out'), ...pageProblems(401, 403, 413, 415) },
});
