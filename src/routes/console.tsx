/** @jsxImportSource hono/jsx */
import { Hono } from 'hono';
import { csrf } from 'hono/csrf';
import { z } from 'zod';
import { signInOperator } from '../auth/page-sign-in';
import { findApp } from '../db/apps';
import { database } from '../db/client';
import { APP_STATUSES } from '../db/schema';
import { accessReport } from '../delivery/access-report';
import { approveApp, suspendApp } from '../delivery/app-status';
import { verifyPage } from '../delivery/audit-run';
import { appForConsole, appsWithHealth, pendingApps } from '../delivery/console-data';
import { invalid } from '../errors';
import { CONSOLE_HOME, consoleForm, consoleSession, consoleSignedIn } from '../http/console-session';
import { localFromUtc, optionalChoice, optionalId, optionalLocalTime, pageIds, pageQuery } from '../http/page-forms';
import { pagesOf } from '../http/page-headers';
import { beginSession, clientAddress, endSession, openSignInForm, signInFormFields } from '../http/page-session';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { parseWith } from '../http/validation';
import { AppPage } from '../pages/console-app-pages';
import { AuditPage, UserPage } from '../pages/console-lookup-pages';
import { AppsPage, ReviewPage } from '../pages/console-pages';
import { renderDocument } from '../pages/layout';
import { MessagePage } from '../pages/message-page';
import { refusalMessage, SignInPage } from '../pages/sign-in-page';

const DAY = 86_400_000;
const MINUTE = 60_000;
/** Ledger entries one audit page re-checks before offering to go on (as GET /internal/audit/verify's default). */
const AUDIT_BUDGET = 5_000;

const signInSchema = z.object({ platform_token: z.string({ error: 'is required' }).min(1, 'is required').max(500) });
const decisionSchema = z.object({ return_to: optionalChoice(['review', 'app'] as const) });
const suspendSchema = decisionSchema.extend({
  reason: z.string({ error: 'is required' }).trim().min(1, 'is required: the developer is shown it').max(1000),
});
const doneQuery = z.object({ done: optionalChoice(['approved', 'suspended'] as const), app: optionalId, before: optionalId });
const appsQuery = z.object({ status: optionalChoice(APP_STATUSES), before: optionalId });
const userQuery = z.object({ user_id: optionalId });
const auditQuery = z.object({
  run: z.string().optional(),
  from: optionalLocalTime,
  to: optionalLocalTime,
  app_id: optionalId,
  cursor: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^[0-9]{1,19}:[0-9]{1,19}$/, 'must be a link this page made')
      .optional(),
  ),
});

const appIdPath = pageIds('app_id');
const pages = rateLimit('platform:other', byPlatform);

/**
 * The operator console (docs/portal.md): the platform operator signs in with the platform token and
 * reviews apps (approve, suspend with a reason), watches every app's webhooks' health, looks a user
 * up and runs the audit. Decisions are the very functions `/internal/apps` calls
 * (src/delivery/app-status.ts), and count against the platform's own rate limit like its API calls.
 */
export const consoleRouter = new Hono<HonoEnv>()
  .use(pagesOf('console'), consoleSession, csrf({ origin: (origin, c) => origin === new URL(c.req.url).origin }))
  .get('/sign-in', async (c) => {
    if (c.get('operator')) return c.redirect(CONSOLE_HOME, 303);
    return c.html(await renderDocument(<SignInPage surface="console" csrf={await openSignInForm(c, 'operator')} />));
  })
  .post('/sign-in', async (c) => {
    const fields = parseWith(signInSchema, await signInFormFields(c, 'operator'), 'invalid sign-in form');
    const result = await signInOperator(c.env, c.get('settings'), fields.platform_token, clientAddress(c));
    if (!result.ok) {
      const page = (
        <SignInPage
          surface="console"
          csrf={await openSignInForm(c, 'operator')}
          error={refusalMessage('console', result.retryAfterSeconds)}
        />
      );
      if (result.retryAfterSeconds !== null) c.header('retry-after', String(result.retryAfterSeconds));
      return c.html(await renderDocument(page), result.retryAfterSeconds === null ? 401 : 429);
    }
    await beginSession(c, 'operator', 'platform', fields.platform_token, c.get('settings').pages.consoleSessionMs);
    return c.redirect(CONSOLE_HOME, 303);
  })
  .post('/sign-out', consoleForm, async (c) => {
    endSession(c, 'operator');
    return c.html(
      await renderDocument(
        <MessagePage
          title="You are signed out"
          message="This browser's console session ended."
          surface={{ brand: 'Operator console', eyebrow: 'Operator console' }}
          action={{ href: '/console/sign-in', label: 'Sign in again' }}
        />,
      ),
    );
  })
  /** The review queue: pending apps, newest first. */
  .get('/', consoleSignedIn, pages, pageQuery(doneQuery), async (c) => {
    const q = c.req.valid('query');
    const [page, decided] = await Promise.all([
      pendingApps(c.env, q.before),
      q.done && q.app ? findApp(database(c.env), q.app) : undefined,
    ]);
    const nextHref = page.nextToken ? `/console?before=${page.nextToken}` : null;
    const done = q.done && decided ? { what: q.done, name: decided.name } : null;
    return c.html(await renderDocument(<ReviewPage csrf={c.get('csrf')!} pending={page.apps} nextHref={nextHref} done={done} />));
  })
  .get('/apps', consoleSignedIn, pages, pageQuery(appsQuery), async (c) => {
    const q = c.req.valid('query');
    const { apps, nextToken } = await appsWithHealth(c.env, q);
    const next = new URLSearchParams({ ...(q.status ? { status: q.status } : {}), ...(nextToken ? { before: nextToken } : {}) });
    const nextHref = nextToken ? `/console/apps?${next}` : null;
    return c.html(
      await renderDocument(<AppsPage csrf={c.get('csrf')!} apps={apps} status={q.status} nextHref={nextHref} now={Date.now()} />),
    );
  })
  .get('/apps/:app_id', consoleSignedIn, pages, appIdPath, pageQuery(doneQuery), async (c) => {
    const data = await appForConsole(c.env, c.req.valid('param').app_id);
    return c.html(await renderDocument(<AppPage csrf={c.get('csrf')!} {...data} now={Date.now()} done={c.req.valid('query').done} />));
  })
  .post('/apps/:app_id/approve', consoleForm, pages, appIdPath, async (c) => {
    const appId = c.req.valid('param').app_id;
    const { return_to } = parseWith(decisionSchema, c.get('form'), 'invalid form');
    await approveApp(c.env, appId);
    return c.redirect(return_to === 'review' ? `/console?done=approved&app=${appId}` : `/console/apps/${appId}?done=approved`, 303);
  })
  .post('/apps/:app_id/suspend', consoleForm, pages, appIdPath, async (c) => {
    const appId = c.req.valid('param').app_id;
    const { reason, return_to } = parseWith(suspendSchema, c.get('form'), 'invalid form');
    await suspendApp(c.env, appId, reason);
    return c.redirect(return_to === 'review' ? `/console?done=suspended&app=${appId}` : `/console/apps/${appId}?done=suspended`, 303);
  })
  /** A user's access report (GET /internal/users/:id/access as a page). */
  .get('/users', consoleSignedIn, pages, pageQuery(userQuery), async (c) => {
    const { user_id } = c.req.valid('query');
    const report = user_id ? await accessReport(c.env, user_id) : null;
    return c.html(await renderDocument(<UserPage csrf={c.get('csrf')!} userId={user_id} report={report} />));
  })
  /**
   * The audit (GET /internal/audit/verify as a page), over a window given to the minute: `to`
   * includes its whole minute. Runs only when the form was sent; one bounded page at a time.
   */
  .get('/audit', consoleSignedIn, pages, pageQuery(auditQuery), async (c) => {
    const q = c.req.valid('query');
    const now = Date.now();
    const to = q.to !== undefined ? q.to + MINUTE : now + 1;
    const from = q.from ?? to - DAY;
    const form = { from: localFromUtc(from), to: localFromUtc(q.to ?? now), app_id: q.app_id };
    if (!q.run) return c.html(await renderDocument(<AuditPage csrf={c.get('csrf')!} form={form} result={null} />));
    if (from >= to)
      throw invalid('invalid audit window: from must be before to', 'QueryParamInvalid', [
        { parameter: 'from', message: 'must be before to' },
      ]);
    const page = await verifyPage(c.env, { from, to, appId: q.app_id, cursor: q.cursor, budget: AUDIT_BUDGET });
    const next = new URLSearchParams({ run: '1', from: form.from, to: form.to, ...(q.app_id ? { app_id: q.app_id } : {}) });
    if (page.nextCursor) next.set('cursor', page.nextCursor);
    const result = {
      from,
      to,
      checked: page.checked,
      violations: page.violations,
      nextHref: page.nextCursor ? `/console/audit?${next}` : null,
    };
    return c.html(await renderDocument(<AuditPage csrf={c.get('csrf')!} form={form} result={result} />));
  });
