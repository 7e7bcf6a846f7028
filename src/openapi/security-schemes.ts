import { SCOPE_DESCRIPTIONS } from '../domain/scope-catalog';
import { KNOWN_SCOPES } from '../domain/scopes';

/**
 * The ways into the API, as OpenAPI security schemes. Contracts name them through `SECURITY` in
 * src/routes/contracts/common.ts; the names match X's own document where X has the same scheme
 * (`BearerToken`, `OAuth2UserToken`), so a client generated for X finds them here too.
 */
export const SECURITY_SCHEMES = {
  BearerToken: {
    type: 'http',
    scheme: 'bearer',
    description:
      'App-only bearer token: `POST /oauth2/token` with `grant_type=client_credentials` and the app’s consumer key and secret (HTTP Basic).',
  },
  OAuth2UserToken: {
    type: 'oauth2',
    description: 'A user access token of the app (authorization code with PKCE, S256). It acts for the user who granted it.',
    flows: {
      authorizationCode: {
        authorizationUrl: '/i/oauth2/authorize',
        tokenUrl: '/2/oauth2/token',
        refreshUrl: '/2/oauth2/token',
        scopes: Object.fromEntries(KNOWN_SCOPES.map((scope) => [scope, SCOPE_DESCRIPTIONS[scope].title])),
      },
    },
  },
  ConsumerKeySecret: {
    type: 'http',
    scheme: 'basic',
    description: 'The app’s consumer key (user name) and consumer secret (password), as issued by `POST /internal/apps`.',
  },
  PlatformToken: {
    type: 'http',
    scheme: 'bearer',
    description: 'The operator’s platform token (the `PLATFORM_TOKEN` secret). Only the platform side calls `/internal/*`.',
  },
  UserSession: {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-aae_session',
    description:
      'The signed session cookie of the user pages (`aae_session` without the `__Host-` prefix on plain http to a loopback host). Browsers only.',
  },
} as const;

export type SecuritySchemeName = keyof typeof SECURITY_SCHEMES;
