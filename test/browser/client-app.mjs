// A developer's web app that signs its users in with this service, written the way a developer
// would: a standard OAuth 2.0 client library (oauth4webapi), authorization code with PKCE, a
// confidential client authenticating with HTTP Basic. It listens on 127.0.0.1 (a free port).
import { createServer } from 'node:http';
import * as oauth from 'oauth4webapi';

/**
 * What the app saw at its callback.
 * @typedef {{ kind: 'tokens', tokens: oauth.TokenEndpointResponse, params: URLSearchParams, verifier: string }
 *   | { kind: 'held', params: URLSearchParams, verifier: string }
 *   | { kind: 'error', error: string, description: string | undefined }} CallbackResult
 */

/**
 * @param {{ baseUrl: string, clientId: string, clientSecret: string, scope: string }} options
 */
export async function startClientApp({ baseUrl, clientId, clientSecret, scope }) {
  /** @type {oauth.AuthorizationServer} */
  const as = {
    issuer: baseUrl,
    authorization_endpoint: `${baseUrl}/i/oauth2/authorize`,
    token_endpoint: `${baseUrl}/2/oauth2/token`,
    revocation_endpoint: `${baseUrl}/2/oauth2/revoke`,
  };
  /** @type {oauth.Client} */
  const client = { client_id: clientId };
  const clientAuth = oauth.ClientSecretBasic(clientSecret);
  // The service runs on http://127.0.0.1 in tests; the library insists on https unless told.
  const options = { [oauth.allowInsecureRequests]: true };
  /** @type {Map<string, { verifier: string, hold: boolean }>} */
  const pending = new Map();
  /** @type {CallbackResult[]} */
  const results = [];
  let origin = '';

  const page = (/** @type {import('node:http').ServerResponse} */ res, /** @type {string} */ title, /** @type {string} */ body) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><h1>${title}</h1><p id="result">${body}</p>`);
  };

  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origin);
    try {
      if (url.pathname === '/login') {
        const verifier = oauth.generateRandomCodeVerifier();
        const state = oauth.generateRandomState();
        pending.set(state, { verifier, hold: url.searchParams.has('hold') });
        const authorize = new URL(/** @type {string} */ (as.authorization_endpoint));
        authorize.search = new URLSearchParams({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: `${origin}/callback`,
          scope,
          state,
          code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
          code_challenge_method: 'S256',
        }).toString();
        res.writeHead(302, { location: authorize.href });
        res.end();
        return;
      }
      if (url.pathname === '/callback') {
        const state = url.searchParams.get('state') ?? '';
        const flow = pending.get(state);
        if (!flow) return page(res, 'Unknown sign-in', 'state did not round-trip');
        pending.delete(state);
        let params;
        try {
          params = oauth.validateAuthResponse(as, client, url, state);
        } catch (err) {
          if (!(err instanceof oauth.AuthorizationResponseError)) throw err;
          results.push({ kind: 'error', error: err.error, description: err.error_description });
          return page(res, 'Not connected', `The authorization was declined (${err.error}).`);
        }
        if (flow.hold) {
          results.push({ kind: 'held', params, verifier: flow.verifier });
          return page(res, 'Code received', 'Held for the test.');
        }
        const response = await oauth.authorizationCodeGrantRequest(
          as,
          client,
          clientAuth,
          params,
          `${origin}/callback`,
          flow.verifier,
          options,
        );
        const tokens = await oauth.processAuthorizationCodeResponse(as, client, response);
        results.push({ kind: 'tokens', tokens, params, verifier: flow.verifier });
        return page(res, 'Connected', `Signed in with scope ${tokens.scope}.`);
      }
      res.writeHead(404).end();
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  origin = `http://127.0.0.1:${address.port}`;

  return {
    origin,
    redirectUri: `${origin}/callback`,
    results,
    /** The code exchange again, as the library does it (for a replay). @param {URLSearchParams} params @param {string} verifier */
    exchange: async (params, verifier) =>
      oauth.processAuthorizationCodeResponse(
        as,
        client,
        await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, `${origin}/callback`, verifier, options),
      ),
    /** @param {string} refreshToken */
    refresh: async (refreshToken) =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, clientAuth, refreshToken, options)),
    /** The raw token endpoint, for requests the library would not send. @param {Record<string, string>} fields */
    tokenRequest: async (fields) => {
      const res = await fetch(/** @type {string} */ (as.token_endpoint), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams(fields),
      });
      return { status: res.status, body: /** @type {Record<string, unknown>} */ (await res.json()) };
    },
    close: () => new Promise((resolve) => server.close(() => resolve(undefined))),
  };
}
