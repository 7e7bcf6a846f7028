import { and, eq, isNull } from 'drizzle-orm';
import { database } from '../db/client';
import { authorizations } from '../db/schema';
import { recordWithdrawal } from '../db/withdrawals';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { conflict } from '../errors';
import { AppDelivery } from './app-objects';
import { awaitFence } from './withdrawal';

export interface Grant {
  /** The D1 id of the new authorization. */
  authorizationId: string;
  /** The user access token (shown once); D1 keeps its hash. */
  accessToken: string;
  scope: string;
}

/**
 * Grants (or re-grants) `userId`'s authorization of `appId` with `scope` (docs/delivery.md, "D1 and
 * the objects agree"). A re-grant may narrow and widen at once: the app's object first loses the
 * scopes the new grant lacks (a withdrawal), then D1 swaps the grant only if the one restricted is
 * still the live one (a concurrent grant may have won: then start over), and only then does the
 * object take the new grant, so the object is never wider than D1. Answers once nothing the narrowed
 * part withdrew can still start. Every way a user comes to authorize an app goes through here.
 */
export async function grantAuthorization(env: Env, appId: string, userId: string, scope: string): Promise<Grant> {
  const db = database(env);
  const accessToken = randomSecret(TOKEN_PREFIX.userToken);
  const tokenHash = await sha256Hex(accessToken);
  const object = await AppDelivery.load(env, appId);
  const live = and(eq(authorizations.appId, appId), eq(authorizations.userId, userId), isNull(authorizations.endedAt));
  for (let round = 0; round < 5; round++) {
    const [previous] = await db.select({ id: authorizations.id }).from(authorizations).where(live).limit(1);
    const narrowed = previous ? await object.restrictAuthorization(userId, scope, previous.id) : null;
    const now = Math.max(Date.now(), narrowed?.effectiveAt ?? 0);
    const id = newId(now);
    // The swap: the grant that was restricted ends and the new one starts in one transaction, only if
    // it is still the live one (for a first grant: only if none is live). Both or neither.
    const [ended, inserted] = await env.DB.batch([
      env.DB.prepare(`UPDATE authorizations SET ended_at = ?, end_reason = 'superseded' WHERE id = ? AND ended_at IS NULL`).bind(
        now,
        previous?.id ?? '',
      ),
      env.DB.prepare(
        `INSERT INTO authorizations (id, app_id, user_id, scope, token_hash, created_at)
         SELECT ?, ?, ?, ?, ?, ? WHERE ${previous ? 'changes() = 1' : 'NOT EXISTS (SELECT 1 FROM authorizations WHERE app_id = ? AND user_id = ? AND ended_at IS NULL)'}`,
      ).bind(id, appId, userId, scope, tokenHash, now, ...(previous ? [] : [appId, userId])),
    ]);
    if (inserted.meta.changes !== 1 || (previous && ended.meta.changes !== 1)) continue;
    const granted = await object.grantAuthorization({
      authorizationId: id,
      userId,
      scope,
      at: now,
      supersedes: previous ? [previous.id] : [],
    });
    if (granted.refused) {
      throw conflict(`the authorization of user ${userId} was revoked while it was being granted; grant it again`, 'AuthorizationRevoked');
    }
    // Both halves may have withdrawn something: wait out the later fence.
    await awaitFence(env, narrowed && narrowed.fenceWaitMs > granted.fenceWaitMs ? narrowed : granted);
    return { authorizationId: id, accessToken, scope };
  }
  throw conflict(`user ${userId} was granted concurrently by other requests; grant again`, 'AuthorizationConflict');
}

/**
 * Revokes `userId`'s live authorization of `appId`: the app's object stops first (ending the user's
 * subscriptions there and dropping their undelivered events; the app is sent a revoke notice), D1
 * records exactly what the object ended, when it took effect there, and the answer waits until
 * nothing handed out before can still start. False if there is no live authorization.
 */
export async function revokeAuthorization(env: Env, appId: string, userId: string): Promise<boolean> {
  const db = database(env);
  const [active] = await db
    .select({ id: authorizations.id })
    .from(authorizations)
    .where(and(eq(authorizations.appId, appId), eq(authorizations.userId, userId), isNull(authorizations.endedAt)))
    .limit(1);
  if (!active) return false;
  const withdrawal = await (await AppDelivery.load(env, appId)).revokeAuthorization(userId, active.id);
  await recordWithdrawal(db, withdrawal, { authorization: 'revoked', subscription: 'authorization_revoked' });
  await awaitFence(env, withdrawal);
  return true;
}
