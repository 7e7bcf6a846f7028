import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { requestId } from 'hono/request-id';
import { settings } from './config';
import { ApiError, type ProblemKind, problemBody } from './errors';
import { rateLimitHeaders } from './http/rate-limit';
import type { HonoEnv } from './http/types';
import { apiRouter } from './http/validation';
import { errorPageHtml } from './pages/error-page';
import { accountActivityRouter } from './routes/account-activity';
import { activityRouter } from './routes/activity';
import { authorizeRouter } from './routes/authorize';
import { connectedAppsRouter } from './routes/connected-apps';
import { consoleRouter } from './routes/console';
import { serviceInfo } from './routes/contracts/service';
import { internalActivity } from './routes/internal-activity';
import { internalApps } from './routes/internal-apps';
import { internalAudit } from './routes/internal-audit';
import { internalAuthorizations } from './routes/internal-authorizations';
import { internalMetrics } from './routes/internal-metrics';
import { internalUsers } from './routes/internal-users';
import { oauth2 } from './routes/oauth2';
import { oauth2User } from './routes/oauth2-user';
import { portalRouter } from './routes/portal';
import { problems } from './routes/problems';
import { referenceRouter } from './routes/reference';
import { sessionRouter } from './routes/session';
import { webhooksRouter } from './routes/webhooks';

const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';
const OAUTH_ERROR_TYPE = 'application/json; charset=utf-8';

/** Paths whose problems speak X's vocabulary (the X Activity API, validated against X's schemas). */
const X_PROBLEM_PREFIX = '/2/activity';

async function renderProblem(c: Context<HonoEnv>, err: ApiError): Promise<Response> {
  // On a user page a person reads the error: the same problem, as a page.
  const page = c.get('page');
  if (page) return c.html(await errorPageHtml(err, page.surface), err.status, err.headers);
  const headers = new Headers(err.headers);
  // OAuth clients parse errors as RFC 6749 JSON (the body carries both shapes).
  headers.set('content-type', err.oauthError ? OAUTH_ERROR_TYPE : PROBLEM_TYPE);
  if (err.oauthError) headers.set('cache-control', 'no-store');
  const path = c.req.path;
  const dialect = path === X_PROBLEM_PREFIX || path.startsWith(`${X_PROBLEM_PREFIX}/`) ? 'x' : 'service';
  return c.body(JSON.stringify(problemBody(err, new URL(c.req.url).origin, dialect)), err.status, Object.fromEntries(headers));
}

const KIND_BY_STATUS: Record<number, ProblemKind> = {
  400: 'invalid-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'payload-too-large',
  415: 'unsupported-media-type',
  429: 'rate-limited',
  503: 'service-unavailable',
};

/**
 * Who owns which path prefix. No prefix lies inside another, so a router's middleware (its
 * authentication, its rate limit) runs only for its own routes and every request is counted once.
 */
export const ROUTERS = {
  '/oauth2': oauth2,
  '/2/oauth2': oauth2User,
  '/i/oauth2': authorizeRouter,
  '/i/session': sessionRouter,
  '/i/connected_apps': connectedAppsRouter,
  '/2/webhooks': webhooksRouter,
  '/2/account_activity': accountActivityRouter,
  '/2/activity': activityRouter,
  '/internal/apps': internalApps,
  '/internal/authorizations': internalAuthorizations,
  '/internal/activity': internalActivity,
  '/internal/users': internalUsers,
  '/internal/audit': internalAudit,
  '/internal/metrics': internalMetrics,
  '/portal': portalRouter,
  '/console': consoleRouter,
  '/problems': problems,
} as const;

/** Body limits by path: the ingest endpoint takes batches, everything else is small. */
function bodyLimitFor(path: string, s: ReturnType<typeof settings>): number {
  return path === '/internal/activity' ? s.maxIngestBodyBytes : s.maxBodyBytes;
}

export function createApp() {
  const app = apiRouter();

  app.use(requestId({ headerName: 'x-request-id' }));
  // X's rate-limit headers on every response of a limited endpoint, errors included.
  app.use(async (c, next) => {
    await next();
    const decision = c.get('rateLimit');
    if (decision) for (const [name, value] of Object.entries(rateLimitHeaders(decision))) c.res.headers.set(name, value);
  });
  app.use(async (c, next) => {
    c.set('settings', settings(c.env));
    await next();
  });
  app.use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: async (c, methods) => {
        const res = await renderProblem(
          c,
          new ApiError('method-not-allowed', `${c.req.method} is not allowed here; use ${methods.join(', ')}`),
        );
        res.headers.set('allow', methods.join(', '));
        return res;
      },
    }),
  );
  // Reject oversize bodies before anything reads them; a declared length is checked up front.
  app.use(async (c, next) => {
    const limit = bodyLimitFor(c.req.path, c.get('settings'));
    const declared = Number(c.req.header('content-length') ?? '0');
    if (declared > limit) throw new ApiError('payload-too-large', `request body must be at most ${limit} bytes`);
    if (c.req.raw.body && !c.req.header('content-length')) {
      const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
      if (bytes.byteLength > limit) throw new ApiError('payload-too-large', `request body must be at most ${limit} bytes`);
      c.req.raw = new Request(c.req.raw, { body: bytes });
    }
    await next();
  });

  app.openapi(serviceInfo, (c) =>
    c.json(
      { service: 'account-activity-edge', status: 'ok' as const, docs: 'README.md of the project; problem types under /problems/<kind>' },
      200,
    ),
  );
  for (const [prefix, router] of Object.entries(ROUTERS)) app.route(prefix, router);
  // The reference documents every route above, itself included.
  app.route('/', referenceRouter(app));

  app.notFound((c) => renderProblem(c, new ApiError('not-found', `no route for ${c.req.method} ${c.req.path}`)));
  app.onError((err, c) => {
    if (err instanceof ApiError) return renderProblem(c, err);
    if (err instanceof HTTPException && KIND_BY_STATUS[err.status]) {
      return renderProblem(c, new ApiError(KIND_BY_STATUS[err.status], err.message || 'request rejected'));
    }
    // Anything else is a bug: log it with the request id, tell the client nothing internal.
    console.error(`request ${c.get('requestId')} failed`, err);
    return renderProblem(c, new ApiError('internal-error', `unexpected error; request id ${c.get('requestId')}`));
  });
  return app;
}
