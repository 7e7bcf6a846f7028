/** @jsxImportSource hono/jsx */
import { csrf } from 'hono/csrf';
import { revokeAuthorization } from '../delivery/authorizations';
import { pageHeaders } from '../http/page-headers';
import { userSession } from '../http/user-session';
import { apiRouter } from '../http/validation';
import { connectedAppsOf } from '../oauth/connected-apps';
import { ConnectedAppsPage } from '../pages/connected-apps-page';
import { renderDocument } from '../pages/layout';
import { accessReportDownload, connectedAppsPage, HOME, revokeFromPage } from './contracts/connected-apps';

/**
 * The signed-in user's Connected apps: every app they ever authorized, what it can see, what it
 * received of their data (from the apps' ledgers, possibly-received included), Revoke, and the full
 * access report as a download. Everything is the session user's own: no path names another user.
 */
export const connectedAppsRouter = apiRouter();
connectedAppsRouter.use(pageHeaders, userSession, csrf({ origin: (origin, c) => origin === new URL(c.req.url).origin }));
connectedAppsRouter
  .openapi(connectedAppsPage, async (c) => {
    const session = c.get('session')!;
    const { apps } = await connectedAppsOf(c.env, session.userId);
    const revoked = c.req.query('revoked');
    const revokedName = revoked ? (apps.find((a) => a.access.app_id === revoked)?.access.name ?? null) : null;
    return c.html(
      await renderDocument(
        <ConnectedAppsPage user={{ userId: session.userId, csrf: c.get('csrf')! }} apps={apps} revokedName={revokedName} />,
      ),
    );
  })
  .openapi(accessReportDownload, async (c) => {
    const { report } = await connectedAppsOf(c.env, c.get('session')!.userId);
    const stamp = new Date().toISOString().slice(0, 10);
    return c.json({ data: { generated_at: new Date().toISOString(), ...report } }, 200, {
      'content-disposition': `attachment; filename="access-report-${report.user_id}-${stamp}.json"`,
    });
  })
  /** Revokes the session user's own authorization of the app: the same revoke the platform's DELETE runs. */
  .openapi(revokeFromPage, async (c) => {
    const appId = c.req.valid('param').app_id;
    await revokeAuthorization(c.env, appId, c.get('session')!.userId);
    return c.redirect(`${HOME}?revoked=${appId}`, 303);
  });
