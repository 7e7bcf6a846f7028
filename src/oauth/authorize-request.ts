import type { Database } from '../db/client';
import { CODE_CHALLENGE_METHOD, CODE_CHALLENGE_PATTERN } from '../domain/pkce';
import { withQuery } from '../domain/redirect-uri';
import { formatScopes, KNOWN_SCOPES } from '../domain/scopes';
import { forbidden, invalid } from '../errors';
import { clientById, type OAuthClient } from './clients';

/** A valid authorization request: who asks, for what, and where the answer goes. */
export interface AuthorizeRequest {
  client: OAuthClient;
  redirectUri: string;
  scopes: string[];
  state: string;
  codeChallenge: string;
}

/**
 * What to do with `GET /i/oauth2/authorize` (RFC 6749 §4.1.1 and §4.1.2.1): a request whose client
 * or redirect URI cannot be trusted is refused on a page of this service, never redirected (no open
 * redirect); any other problem goes back to the app's registered redirect URI as `error` with `state`.
 */
export type AuthorizeCheck = { ok: true; request: AuthorizeRequest } | { ok: false; redirectTo: string };

export const MAX_STATE_LENGTH = 1024;

/** One value per parameter: RFC 6749 §3.1 forbids repeating one. */
function single(query: Record<string, string[]>, name: string): string | undefined {
  const values = query[name];
  if (values && values.length > 1) throw invalid(`${name} appears more than once in the authorization request`);
  return values?.[0];
}

export async function checkAuthorizeRequest(db: Database, query: Record<string, string[]>): Promise<AuthorizeCheck> {
  const clientId = single(query, 'client_id');
  if (!clientId) throw invalid('the app sent no client_id: it cannot be identified, so this sign-in cannot go on');
  const client = await clientById(db, clientId);
  if (!client) throw invalid('the app that sent you here is not registered for sign-in with this service');
  if (client.app.status !== 'active') throw forbidden(`${client.app.name} is not available right now`, 'AppNotActive');
  const redirectUri = single(query, 'redirect_uri');
  if (!redirectUri || !client.redirectUris.includes(redirectUri)) {
    throw invalid(
      `the app asked to send you to an address it has not registered${redirectUri ? '' : ' (redirect_uri is missing)'}; for your safety you were not sent there`,
    );
  }

  // From here the redirect URI is the app's own: the app learns of any other problem there.
  const state = query.state?.[0];
  const back = (error: string, description: string) => ({
    ok: false as const,
    redirectTo: withQuery(redirectUri, { error, error_description: description, state }),
  });
  const repeated = Object.keys(query).filter((name) => query[name].length > 1);
  if (repeated.length > 0) return back('invalid_request', `each parameter may appear once: ${repeated.join(', ')} repeated`);
  if (single(query, 'response_type') !== 'code') return back('unsupported_response_type', 'response_type must be code');
  if (!state) return back('invalid_request', 'state is required');
  if (state.length > MAX_STATE_LENGTH) return back('invalid_request', `state must be at most ${MAX_STATE_LENGTH} characters`);
  const scopeText = single(query, 'scope') ?? '';
  const scopes = scopeText.split(' ').filter(Boolean);
  if (scopes.length === 0) return back('invalid_scope', 'scope is required');
  const unknown = scopes.filter((s) => !(KNOWN_SCOPES as readonly string[]).includes(s));
  if (unknown.length > 0) return back('invalid_scope', `unknown scope: ${unknown.join(' ')}`);
  const codeChallenge = single(query, 'code_challenge');
  if (!codeChallenge) return back('invalid_request', 'code_challenge is required (PKCE)');
  if (single(query, 'code_challenge_method') !== CODE_CHALLENGE_METHOD) {
    return back('invalid_request', `code_challenge_method must be ${CODE_CHALLENGE_METHOD}`);
  }
  if (!CODE_CHALLENGE_PATTERN.test(codeChallenge)) {
    return back('invalid_request', 'code_challenge must be the base64url SHA-256 of the code_verifier (43 characters)');
  }
  return { ok: true, request: { client, redirectUri, scopes: formatScopes(scopes).split(' '), state, codeChallenge } };
}
