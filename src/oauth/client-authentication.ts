import { createMiddleware } from 'hono/factory';
import { authenticateConsumer, hasBasicCredentials } from '../auth/consumer';
import { database } from '../db/client';
import { ApiError, oauthError } from '../errors';
import { formFields } from '../http/form';
import type { HonoEnv } from '../http/types';
import { clientById, clientSettings } from './clients';

/**
 * Who calls the token or revoke endpoint (RFC 6749 §2.3): a confidential client with HTTP Basic
 * (client id = consumer key, secret = consumer secret), a public client by `client_id` alone, since it
 * can keep no secret (PKCE protects its codes). A confidential client must authenticate: its
 * `client_id` alone is refused. Sets the app and the request's form fields.
 */
export const oauthClient = createMiddleware<HonoEnv>(async (c, next) => {
  const db = database(c.env);
  const fields = formFields(await c.req.arrayBuffer(), c.req.header('content-type'));
  const header = c.req.header('authorization');
  let app: Awaited<ReturnType<typeof authenticateConsumer>>;
  if (hasBasicCredentials(header)) {
    try {
      app = await authenticateConsumer(db, header);
    } catch {
      throw oauthError('invalid_client', 'invalid client credentials (HTTP Basic: client id and client secret)', { basic: true });
    }
    if (fields.client_id !== undefined && fields.client_id !== app.consumerKey) {
      throw oauthError('invalid_request', 'client_id differs from the client that authenticated');
    }
    if (!(await clientSettings(db, app.id))) {
      throw oauthError('unauthorized_client', 'this app has not registered as an OAuth 2.0 client (redirect URIs)');
    }
  } else {
    if (!fields.client_id) {
      throw oauthError('invalid_client', 'authenticate with HTTP Basic (confidential client) or send client_id (public client)');
    }
    const client = await clientById(db, fields.client_id);
    if (!client) throw oauthError('invalid_client', 'unknown client_id');
    if (client.clientType !== 'public') {
      throw oauthError('invalid_client', 'this client is confidential: authenticate with HTTP Basic (client id and client secret)');
    }
    app = client.app;
  }
  if (app.status !== 'active') {
    throw new ApiError('forbidden', `app is ${app.status}, not active`, { reason: 'AppNotActive', oauthError: 'unauthorized_client' });
  }
  c.set('app', app);
  c.set('form', fields);
  await next();
});
