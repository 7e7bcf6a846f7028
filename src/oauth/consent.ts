import { and, eq, isNull } from 'drizzle-orm';
import { database } from '../db/client';
import { authorizations } from '../db/schema';
import { grantAuthorization } from '../delivery/authorizations';
import { formatScopes } from '../domain/scopes';

/** The user's live grant to an app, if any: what the consent page shows as already allowed. */
export async function liveGrant(env: Env, appId: string, userId: string): Promise<{ id: string; scope: string; createdAt: number } | null> {
  const [row] = await database(env)
    .select({ id: authorizations.id, scope: authorizations.scope, createdAt: authorizations.createdAt })
    .from(authorizations)
    .where(and(eq(authorizations.appId, appId), eq(authorizations.userId, userId), isNull(authorizations.endedAt)))
    .limit(1);
  return row ?? null;
}

/**
 * The user clicked Authorize: the authorization the code will be tied to. Consent is incremental: if
 * the live grant already holds every requested scope it is kept as it is (so the app's other tokens
 * for this user keep working); otherwise the user is granted the union of what they had and what is
 * asked, through the one grant function every way of authorizing goes through. That re-grant
 * supersedes the previous one, which ends the tokens tied to it, as a platform re-grant does.
 *
 * The grant function also mints the authorization's own non-expiring token; an OAuth app is never
 * given it (its hash stays unused in D1): what the app holds are the expiring tokens of the code exchange.
 */
export async function authorizeApp(env: Env, appId: string, userId: string, requested: readonly string[]) {
  const live = await liveGrant(env, appId, userId);
  const held = new Set(live?.scope.split(' ') ?? []);
  if (live && requested.every((s) => held.has(s))) return { authorizationId: live.id, scope: live.scope };
  const grant = await grantAuthorization(env, appId, userId, formatScopes([...held, ...requested]));
  return { authorizationId: grant.authorizationId, scope: grant.scope };
}
