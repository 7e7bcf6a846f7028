import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** One entry per offending input, named the way the client sent it (`url`, `activities[3].type`). */
export interface FieldError {
  parameter: string;
  message: string;
}

/**
 * The kinds of problem the API reports; each maps to one status, a title, a stable type URI slug
 * (`/problems/<kind>` explains it) and what it means to a client (also used by the API reference).
 */
export const PROBLEMS = {
  'invalid-request': {
    status: 400,
    title: 'Invalid Request',
    description:
      "The request was malformed or failed validation. `errors` names each offending parameter; `reason` carries X's failure name where one applies.",
  },
  unauthorized: { status: 401, title: 'Unauthorized', description: 'Credentials are missing or invalid for this endpoint.' },
  forbidden: {
    status: 403,
    title: 'Forbidden',
    description: 'The credentials are valid but not allowed to do this (app not active, wrong token kind, a limit reached).',
  },
  'not-found': {
    status: 404,
    title: 'Not Found',
    description: 'No such route or object for these credentials. Objects of other tenants are reported as not found.',
  },
  'method-not-allowed': {
    status: 405,
    title: 'Method Not Allowed',
    description: 'The route exists but not with this method; see the Allow header.',
  },
  conflict: { status: 409, title: 'Conflict', description: 'The request conflicts with the current state (a duplicate, a running job).' },
  'payload-too-large': { status: 413, title: 'Payload Too Large', description: 'The request body is larger than this endpoint accepts.' },
  'unsupported-media-type': {
    status: 415,
    title: 'Unsupported Media Type',
    description: 'The request body is not in a format this endpoint accepts.',
  },
  'rate-limited': {
    status: 429,
    title: 'Too Many Requests',
    description: 'Too many requests; retry after the time in the retry-after header.',
  },
  'internal-error': { status: 500, title: 'Internal Error', description: 'An unexpected error. It is a bug: report the x-request-id.' },
  'service-unavailable': {
    status: 503,
    title: 'Service Unavailable',
    description: 'A dependency did not answer. Nothing was lost: send the same request again after retry-after.',
  },
} as const satisfies Record<string, { status: ContentfulStatusCode; title: string; description: string }>;

export type ProblemKind = keyof typeof PROBLEMS;

/** RFC 6749 §5.2 error codes, which OAuth clients read from the token and revoke endpoints' answers. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_token_type'
  | 'invalid_scope';

/**
 * The single error type of the service. Anything thrown that is not an ApiError is a bug and is
 * rendered as a 500 problem without details (app.ts logs it with the request id).
 */
export class ApiError extends Error {
  readonly kind: ProblemKind;
  readonly reason?: string;
  readonly errors?: FieldError[];
  readonly headers?: Record<string, string>;
  /** What the problem is about, for X's problem shape (`resource_type`, `resource_id`). */
  readonly resource?: { type: string; id?: string };
  /** Set on the OAuth endpoints: the body then also carries RFC 6749's `error` and `error_description`. */
  readonly oauthError?: OAuthErrorCode;

  constructor(
    kind: ProblemKind,
    detail: string,
    options: {
      reason?: string;
      errors?: FieldError[];
      headers?: Record<string, string>;
      resource?: { type: string; id?: string };
      oauthError?: OAuthErrorCode;
    } = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.kind = kind;
    this.reason = options.reason;
    this.errors = options.errors;
    this.headers = options.headers;
    this.resource = options.resource;
    this.oauthError = options.oauthError;
  }

  get status(): ContentfulStatusCode {
    return PROBLEMS[this.kind].status;
  }
}

export const invalid = (detail: string, reason?: string, errors?: FieldError[]) =>
  new ApiError('invalid-request', detail, { reason, errors });
export const notFound = (detail: string, reason?: string) => new ApiError('not-found', detail, { reason });
export const conflict = (detail: string, reason: string) => new ApiError('conflict', detail, { reason });
export const forbidden = (detail: string, reason?: string) => new ApiError('forbidden', detail, { reason });
/**
 * An OAuth 2.0 error (RFC 6749 §5.2): 401 for a client that failed to authenticate, else 400. `basic`
 * says the client tried HTTP Basic, so the 401 challenges for it.
 */
export const oauthError = (code: OAuthErrorCode, detail: string, options: { basic?: boolean; errors?: FieldError[] } = {}) =>
  new ApiError(code === 'invalid_client' ? 'unauthorized' : 'invalid-request', detail, {
    oauthError: code,
    errors: options.errors,
    headers: code === 'invalid_client' ? { 'www-authenticate': options.basic ? 'Basic realm="oauth2"' : 'Bearer' } : undefined,
  });
/** A dependency did not answer and nothing changed: the same request may simply be sent again. */
export const unavailableTryAgain = (detail: string) => new ApiError('service-unavailable', detail, { headers: { 'retry-after': '1' } });
export const unauthorized = (detail: string) => new ApiError('unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });

/**
 * The X Activity API's endpoints answer in X's own problem vocabulary, so that X's OpenAPI schemas
 * validate them: X's `type` URI for the kind, and the `resource_type` X requires on some.
 */
const X_PROBLEMS: Record<ProblemKind, { type: string; resourceType?: string }> = {
  'invalid-request': { type: 'invalid-request' },
  unauthorized: { type: 'not-authorized-for-resource', resourceType: 'app' },
  forbidden: { type: 'not-authorized-for-resource', resourceType: 'app' },
  'not-found': { type: 'resource-not-found', resourceType: 'route' },
  'method-not-allowed': { type: 'invalid-request' },
  conflict: { type: 'invalid-request' },
  'payload-too-large': { type: 'invalid-request' },
  'unsupported-media-type': { type: 'invalid-request' },
  'rate-limited': { type: 'resource-unavailable', resourceType: 'endpoint' },
  'internal-error': { type: 'internal-error' },
  'service-unavailable': { type: 'resource-unavailable', resourceType: 'service' },
};

/** Which vocabulary a problem body speaks: this service's, or X's (the X Activity API). */
export type ProblemDialect = 'service' | 'x';

/**
 * The RFC 7807 body. In this service's dialect `type` points at its own /problems/<kind> page; in
 * X's, at X's problem URI, with `resource_type`/`resource_id` and the first offending `parameter`.
 */
export function problemBody(err: ApiError, origin: string, dialect: ProblemDialect = 'service') {
  const { status, title } = PROBLEMS[err.kind];
  const common = {
    title,
    status,
    detail: err.message,
    ...(err.reason ? { reason: err.reason } : {}),
    ...(err.errors?.length ? { errors: err.errors } : {}),
    ...(err.oauthError ? { error: err.oauthError, error_description: err.message } : {}),
  };
  if (dialect === 'service') return { type: `${origin}/problems/${err.kind}`, ...common };
  const x = X_PROBLEMS[err.kind];
  const resourceType = err.resource?.type ?? x.resourceType;
  return {
    type: `https://api.x.com/2/problems/${x.type}`,
    ...common,
    ...(x.resourceType && resourceType ? { resource_type: resourceType } : {}),
    ...(err.resource?.id ? { resource_id: err.resource.id } : {}),
    ...(err.errors?.length ? { parameter: err.errors[0].parameter } : {}),
  };
}
