import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { signedIn, signedInForm } from '../../http/user-session';
import { htmlPage, idParam, isoTime, pageForm, pageProblems, redirect, SECURITY } from './common';
import { accessReport } from './internal-users';

/** `/i/connected_apps`: the signed-in user's apps. Everything is the session user's own. */

const tags = ['User pages'];
export const HOME = '/i/connected_apps';
const toSignIn = redirect('To sign in (no session), then back here');

export const connectedAppsPage = createRoute({
  method: 'get',
  path: '/',
  operationId: 'connectedAppsPage',
  tags,
  summary: 'Connected apps',
  description:
    'Every app the user ever authorized, what it can see, what it received of their data (possibly-received included), and Revoke.',
  security: [...SECURITY.session, {}],
  middleware: [signedIn(() => HOME)] as const,
  responses: { 200: htmlPage('The page'), 302: toSignIn, ...pageProblems(503) },
});

export const accessReportDownload = createRoute({
  method: 'get',
  path: '/report.json',
  operationId: 'downloadAccessReport',
  tags,
  summary: 'The signed-in user’s access report, as a download',
  security: [...SECURITY.session, {}],
  middleware: [signedIn(() => HOME)] as const,
  responses: {
    200: {
      description: 'The report (`content-disposition: attachment`)',
      content: { 'application/json': { schema: z.object({ data: accessReport.extend({ generated_at: isoTime }) }) } },
    },
    302: toSignIn,
    ...pageProblems(503),
  },
});

export const revokeFromPage = createRoute({
  method: 'post',
  path: '/{app_id}/revoke',
  operationId: 'revokeFromConnectedApps',
  tags,
  summary: 'Revoke an app’s access (the signed-in user’s own)',
  description: 'The same revoke as the platform’s DELETE /internal/authorizations/{app_id}/{user_id}, for the session user only.',
  security: SECURITY.session,
  middleware: [signedInForm] as const,
  request: { params: z.object({ app_id: idParam('The app') }), body: pageForm('`csrf`') },
  responses: { 303: redirect('Back to Connected apps'), ...pageProblems(400, 401, 403, 413, 415) },
});
