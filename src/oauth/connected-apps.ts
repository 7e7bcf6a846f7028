import { inArray } from 'drizzle-orm';
import { database } from '../db/client';
import { apps } from '../db/schema';
import { type AccessReport, type AppAccess, accessReport } from '../delivery/access-report';

/** One app in the user's list, as the page shows it. */
export interface ConnectedApp {
  access: AppAccess;
  description: string | null;
  /** The live grant's scopes, or null if the user revoked it (or it ended otherwise). */
  liveScopes: string[] | null;
  /** Start of the current connection (re-grants continue it; a revoke ends it), or when the last one ended. */
  since: string;
  endedAt: string | null;
  /** The scopes of the last grant, for an app no longer connected. */
  lastScopes: string[];
}

/** The current connection's start: the first grant after the last revoke (a re-grant supersedes, it does not reconnect). */
export function toConnectedApp(access: AppAccess, description: string | null): ConnectedApp {
  const grants = access.authorizations;
  const last = grants[grants.length - 1];
  let start = grants[0];
  for (const [i, g] of grants.entries()) if (g.end_reason === 'revoked' && grants[i + 1]) start = grants[i + 1];
  const live = last.ended_at === null;
  return {
    access,
    description,
    liveScopes: live ? last.scope.split(' ') : null,
    since: start.granted_at ?? '',
    endedAt: live ? null : last.ended_at,
    lastScopes: last.scope.split(' '),
  };
}

/** The user's Connected apps: the access report, with each app's description and connection. */
export async function connectedAppsOf(env: Env, userId: string): Promise<{ report: AccessReport; apps: ConnectedApp[] }> {
  const report = await accessReport(env, userId);
  const ids = report.apps.map((a) => a.app_id);
  const rows = ids.length
    ? await database(env).select({ id: apps.id, description: apps.description }).from(apps).where(inArray(apps.id, ids))
    : [];
  const descriptions = new Map(rows.map((r) => [r.id, r.description]));
  return { report, apps: report.apps.map((a) => toConnectedApp(a, descriptions.get(a.app_id) ?? null)) };
}
