import { and, eq, isNull } from 'drizzle-orm';
import type { Settings } from '../config';
import { database } from '../db/client';
import { authorizations, oauthCodes, oauthTokens } from '../db/schema';
import { revokeAuthorization } from '../delivery/authorizations';
import { randomSecret, sha256Hex, TOKEN_PREFIX } from '../domain/crypto';
import { newId } from '../domain/ids';
import { verifierMatches } from '../domain/pkce';
import { oauthError } from '../errors';

/** What the token endpoint answers (X's shape: `token_type`, `expires_in`, `access_token`, `scope`, `refresh_token`). */
export interface TokenResponse {
  token_type: 'bearer';
  expires_in: number;
  access_token: string;
  scope: string;
  refresh_token?: string;
}

const invalidGrant = (detail: string) => oauthError('invalid_grant', detail);
const hasOfflineAccess = (scope: string) => scope.split(' ').includes('offline.access');

/** A code for the consent the user just gave: single use, short-lived, bound to the redirect URI and the PKCE challenge. */
export async function issueCode(
  env: Env,
  settings: Settings,
  grant: { appId: string; userId: string; authorizationId: string; redirectUri: string; codeChallenge: string },
): Promise<string> {
  const code = randomSecret(TOKEN_PREFIX.authorizationCode);
  const now = Date.now();
  await database(env)
    .insert(oauthCodes)
    .values({ codeHash: await sha256Hex(code), ...grant, createdAt: now, expiresAt: now + settings.oauth.codeMs });
  return code;
}

interface Minted {
  response: TokenResponse;
  rows: { hash: string; kind: 'access' | 'refresh'; expiresAt: number }[];
  /** The hash of the new refresh token, when the grant includes `offline.access`. */
  refreshHash: string | null;
}

/** A new access token, and a refresh token if `scope` includes `offline.access`; plain values only in the response. */
async function mintTokens(settings: Settings, scope: string, now: number): Promise<Minted> {
  const accessToken = randomSecret(TOKEN_PREFIX.userToken);
  const refreshToken = hasOfflineAccess(scope) ? randomSecret(TOKEN_PREFIX.refreshToken) : undefined;
  const rows: Minted['rows'] = [{ hash: await sha256Hex(accessToken), kind: 'access', expiresAt: now + settings.oauth.accessTokenMs }];
  if (refreshToken) rows.push({ hash: await sha256Hex(refreshToken), kind: 'refresh', expiresAt: now + settings.oauth.refreshTokenMs });
  return {
    response: {
      token_type: 'bearer',
      expires_in: Math.floor(settings.oauth.accessTokenMs / 1000),
      access_token: accessToken,
      scope,
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
    },
    rows,
    refreshHash: refreshToken ? rows[1].hash : null,
  };
}

/**
 * Statements that store the minted tokens only if `condition` (SQL over `args`) holds and the
 * authorization is still live, so a token is never born after a revoke ended its authorization.
 */
function storeTokens(
  env: Env,
  minted: Minted,
  owner: { appId: string; userId: string; authorizationId: string; familyId: string },
  now: number,
  condition: string,
  args: unknown[],
) {
  return minted.rows.map((row) =>
    env.DB.prepare(
      `INSERT INTO oauth_tokens (token_hash, kind, app_id, user_id, authorization_id, family_id, created_at, expires_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ? WHERE ${condition}
         AND EXISTS (SELECT 1 FROM authorizations WHERE id = ? AND ended_at IS NULL)`,
    ).bind(
      row.hash,
      row.kind,
      owner.appId,
      owner.userId,
      owner.authorizationId,
      owner.familyId,
      now,
      row.expiresAt,
      ...args,
      owner.authorizationId,
    ),
  );
}

/** Ends every token of a family: a replayed code or a reused refresh token means someone else may hold one. */
async function revokeFamily(env: Env, familyId: string, reason: 'refresh_reuse' | 'code_replay', now: number) {
  await database(env)
    .update(oauthTokens)
    .set({ revokedAt: now, revokeReason: reason })
    .where(and(eq(oauthTokens.familyId, familyId), isNull(oauthTokens.revokedAt)));
}

async function liveAuthorization(env: Env, authorizationId: string) {
  const [row] = await database(env)
    .select()
    .from(authorizations)
    .where(and(eq(authorizations.id, authorizationId), isNull(authorizations.endedAt)))
    .limit(1);
  return row ?? null;
}

/**
 * The `authorization_code` grant: the code must be this client's, unused, unexpired, for this
 * redirect URI, and the verifier must match its PKCE challenge. Everything is checked before the
 * code is spent, so a request with a wrong verifier cannot burn the real client's code; a code
 * presented again after it was redeemed revokes what it issued (RFC 6749 §4.1.2).
 */
export async function redeemCode(
  env: Env,
  settings: Settings,
  request: { appId: string; code: string; redirectUri: string; codeVerifier: string },
): Promise<TokenResponse> {
  const db = database(env);
  const now = Date.now();
  const codeHash = await sha256Hex(request.code);
  const [code] = await db.select().from(oauthCodes).where(eq(oauthCodes.codeHash, codeHash)).limit(1);
  if (!code || code.appId !== request.appId) throw invalidGrant('code is not a valid authorization code of this client');
  if (code.usedAt !== null) {
    if (code.familyId) await revokeFamily(env, code.familyId, 'code_replay', now);
    throw invalidGrant('code was already used; the tokens issued for it are revoked');
  }
  if (code.expiresAt <= now) throw invalidGrant('code expired; send the user through the authorization again');
  if (code.redirectUri !== request.redirectUri) throw invalidGrant('redirect_uri differs from the one of the authorization request');
  if (!(await verifierMatches(request.codeVerifier, code.codeChallenge))) {
    throw invalidGrant('code_verifier does not match the code_challenge of the authorization request');
  }
  const authorization = await liveAuthorization(env, code.authorizationId);
  if (!authorization) throw invalidGrant('the authorization this code was issued for has ended');

  const familyId = newId(now);
  const minted = await mintTokens(settings, authorization.scope, now);
  const owner = { appId: code.appId, userId: code.userId, authorizationId: authorization.id, familyId };
  // Spend the code and store its tokens in one transaction; the tokens only if this request spent it.
  const [spent, ...stored] = await env.DB.batch([
    env.DB.prepare('UPDATE oauth_codes SET used_at = ?, family_id = ? WHERE code_hash = ? AND used_at IS NULL AND expires_at > ?').bind(
      now,
      familyId,
      codeHash,
      now,
    ),
    ...storeTokens(env, minted, owner, now, 'EXISTS (SELECT 1 FROM oauth_codes WHERE code_hash = ? AND family_id = ?)', [
      codeHash,
      familyId,
    ]),
  ]);
  if (spent.meta.changes !== 1) {
    // Another request redeemed it a moment ago: this is a replay of a used code.
    const [winner] = await db.select({ familyId: oauthCodes.familyId }).from(oauthCodes).where(eq(oauthCodes.codeHash, codeHash));
    if (winner?.familyId) await revokeFamily(env, winner.familyId, 'code_replay', now);
    throw invalidGrant('code was already used; the tokens issued for it are revoked');
  }
  if (stored.some((s) => s.meta.changes !== 1)) throw invalidGrant('the authorization this code was issued for has ended');
  return minted.response;
}

/**
 * The `refresh_token` grant: rotation. The presented token is spent and a new access and refresh
 * token of the same family are issued; presenting a spent refresh token again (someone kept a copy)
 * revokes the whole family. A `scope` asking for more than the authorization holds is refused.
 */
export async function rotateRefreshToken(
  env: Env,
  settings: Settings,
  request: { appId: string; refreshToken: string; scope?: string },
): Promise<TokenResponse> {
  const db = database(env);
  const now = Date.now();
  const hash = await sha256Hex(request.refreshToken);
  const [token] = await db
    .select()
    .from(oauthTokens)
    .where(and(eq(oauthTokens.tokenHash, hash), eq(oauthTokens.kind, 'refresh')))
    .limit(1);
  if (!token || token.appId !== request.appId) throw invalidGrant('refresh_token is not a valid refresh token of this client');
  if (token.revokedAt !== null) throw invalidGrant('refresh_token was revoked');
  if (token.spentAt !== null) {
    await revokeFamily(env, token.familyId, 'refresh_reuse', now);
    throw invalidGrant('refresh_token was already used: every token of this grant is now revoked; the user must authorize again');
  }
  if (token.expiresAt <= now) throw invalidGrant('refresh_token expired; the user must authorize again');
  const authorization = await liveAuthorization(env, token.authorizationId);
  if (!authorization) throw invalidGrant("the user's authorization of this app has ended");
  if (request.scope !== undefined) {
    const granted = new Set(authorization.scope.split(' '));
    const extra = request.scope.split(' ').filter((s) => s && !granted.has(s));
    if (extra.length > 0) throw oauthError('invalid_scope', `scope asks for more than was granted: ${extra.join(' ')}`);
  }

  const minted = await mintTokens(settings, authorization.scope, now);
  if (!minted.refreshHash) throw invalidGrant('this grant no longer includes offline.access');
  const owner = { appId: token.appId, userId: token.userId, authorizationId: authorization.id, familyId: token.familyId };
  // Spend the presented token, naming its successor, and store the new tokens only if this rotation did.
  const [spent, ...stored] = await env.DB.batch([
    env.DB.prepare(
      'UPDATE oauth_tokens SET spent_at = ?, replaced_by = ? WHERE token_hash = ? AND spent_at IS NULL AND revoked_at IS NULL',
    ).bind(now, minted.refreshHash, hash),
    ...storeTokens(env, minted, owner, now, 'EXISTS (SELECT 1 FROM oauth_tokens WHERE token_hash = ? AND replaced_by = ?)', [
      hash,
      minted.refreshHash,
    ]),
  ]);
  if (spent.meta.changes !== 1) {
    // A concurrent request rotated it first: two holders of one refresh token.
    await revokeFamily(env, token.familyId, 'refresh_reuse', now);
    throw invalidGrant('refresh_token was already used: every token of this grant is now revoked; the user must authorize again');
  }
  if (stored.some((s) => s.meta.changes !== 1)) throw invalidGrant("the user's authorization of this app has ended");
  return minted.response;
}

/**
 * RFC 7009 revocation by the app: a user token of this app (access or refresh, from the OAuth flow
 * or from the platform's grant) ends the user's authorization of the app, exactly as the user's own
 * Revoke does: every token of it stops working, the user's subscriptions in the app end and their
 * undelivered events are dropped. Anything else (unknown, expired, another app's) changes nothing,
 * and the answer does not say which it was.
 */
export async function revokeByToken(env: Env, appId: string, token: string): Promise<void> {
  if (!token.startsWith(TOKEN_PREFIX.userToken) && !token.startsWith(TOKEN_PREFIX.refreshToken)) return;
  const db = database(env);
  const hash = await sha256Hex(token);
  const [issued] = await db
    .select({ authorizationId: oauthTokens.authorizationId })
    .from(oauthTokens)
    .where(and(eq(oauthTokens.tokenHash, hash), eq(oauthTokens.appId, appId)))
    .limit(1);
  const [authorization] = await db
    .select({ userId: authorizations.userId })
    .from(authorizations)
    .where(
      and(
        eq(authorizations.appId, appId),
        isNull(authorizations.endedAt),
        issued ? eq(authorizations.id, issued.authorizationId) : eq(authorizations.tokenHash, hash),
      ),
    )
    .limit(1);
  if (authorization) await revokeAuthorization(env, appId, authorization.userId);
}

/** Forgets codes and tokens a day past their expiry (they can no longer be used, nor reused to detect theft). */
export async function purgeExpiredOAuthRecords(env: Env, now: number): Promise<number> {
  const before = now - 24 * 3_600_000;
  const [codes, tokens] = await env.DB.batch([
    env.DB.prepare('DELETE FROM oauth_codes WHERE rowid IN (SELECT rowid FROM oauth_codes WHERE expires_at < ? LIMIT 1000)').bind(before),
    env.DB.prepare('DELETE FROM oauth_tokens WHERE rowid IN (SELECT rowid FROM oauth_tokens WHERE expires_at < ? LIMIT 1000)').bind(before),
  ]);
  return codes.meta.changes + tokens.meta.changes;
}
