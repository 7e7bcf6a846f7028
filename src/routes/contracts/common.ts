import { z } from 'zod';
import { PROBLEMS } from '../../errors';

/**
 * Pieces every route contract uses: ids, problem responses, rate-limit headers and the security
 * requirements. A contract (`createRoute(...)`) is the one declaration of a route: its validators
 * and its entry in /openapi.json both come from it.
 */

/** The service's own ids (and X's user ids): decimal strings of 1-19 digits. */
export const numericId = z
  .string()
  .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
  .meta({ example: '1897345238420164608' });

/** A path parameter holding an id, with what it names. */
export const idParam = (description: string) => numericId.meta({ description });

export const isoTime = z.string().meta({ format: 'date-time', example: '2026-11-25T17:03:51.794Z' });

/** The RFC 7807 body of every 4xx and 5xx (src/errors.ts, `problemBody`). */
export const problemSchema = z
  .object({
    type: z
      .string()
      .meta({ description: 'URI of the problem kind; GET it for an explanation', example: 'https://aae.example/problems/not-found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().meta({ description: 'What went wrong, and what to change' }),
    reason: z.string().optional().meta({ description: "X's failure name, where X has one (e.g. `WebhookIdInvalid`)" }),
    errors: z
      .array(z.object({ parameter: z.string(), message: z.string() }))
      .optional()
      .meta({ description: 'Each offending input, named the way the client sent it (`url`, `activities[3].type`)' }),
    error: z.string().optional().meta({ description: 'On the OAuth 2.0 endpoints: the RFC 6749 error code' }),
    error_description: z.string().optional().meta({ description: 'On the OAuth 2.0 endpoints: the same as `detail`' }),
  })
  .meta({ id: 'Problem', description: 'An RFC 7807 problem' });

type ProblemStatus = (typeof PROBLEMS)[keyof typeof PROBLEMS]['status'];
const DESCRIPTION_BY_STATUS = Object.fromEntries(Object.values(PROBLEMS).map((p) => [p.status, `${p.title}. ${p.description}`])) as Record<
  ProblemStatus,
  string
>;

/** X's rate-limit headers, on every answer of a limited endpoint (errors included). */
export const rateLimitHeaders = z.object({
  'x-rate-limit-limit': z.string().meta({ description: 'Requests allowed per window' }),
  'x-rate-limit-remaining': z.string().meta({ description: 'Requests left in this window' }),
  'x-rate-limit-reset': z.string().meta({ description: 'When the window resets, epoch seconds' }),
});
const retryAfter = z.object({ 'retry-after': z.string().meta({ description: 'Seconds to wait before trying again' }) });

/** Problem responses with these statuses (429 also documents its headers). */
export function problems<S extends ProblemStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTION_BY_STATUS[status],
        ...(status === 429 ? { headers: retryAfter.extend(rateLimitHeaders.shape) } : {}),
        content: { 'application/problem+json': { schema: problemSchema } },
      },
    ]),
  ) as Record<S, { description: string; content: { 'application/problem+json': { schema: typeof problemSchema } } }>;
}

/** A JSON answer; `rateLimited` documents X's rate-limit headers on it. */
export const json = <S extends z.ZodType>(schema: S, description: string, options: { rateLimited?: boolean } = {}) => ({
  description,
  ...(options.rateLimited ? { headers: rateLimitHeaders } : {}),
  content: { 'application/json': { schema } },
});

/** A JSON request body, checked by src/http/validation.ts `jsonRequest` and then by the schema. */
export const jsonBody = <S extends z.ZodType>(schema: S, options: { required?: boolean; description?: string } = {}) => ({
  required: options.required ?? true,
  ...(options.description ? { description: options.description } : {}),
  content: { 'application/json': { schema } },
});

/**
 * Who may call an operation (the schemes are defined in src/openapi/security-schemes.ts). Each
 * entry is one way in; `{}` means no credentials at all.
 */
export const SECURITY: Record<'app' | 'user' | 'consumer' | 'oauthClient' | 'platform' | 'session' | 'public', Record<string, string[]>[]> =
  {
    /** App-only bearer token, or a user access token of the app (`requireApp`). */
    app: [{ BearerToken: [] }, { OAuth2UserToken: [] }],
    /** A user access token (`requireUser`). */
    user: [{ OAuth2UserToken: [] }],
    /** The app's consumer key and secret, HTTP Basic. */
    consumer: [{ ConsumerKeySecret: [] }],
    /** An OAuth 2.0 client: confidential with HTTP Basic, or public with `client_id` in the body. */
    oauthClient: [{ ConsumerKeySecret: [] }, {}],
    /** The operator's platform token (`requirePlatform`). */
    platform: [{ PlatformToken: [] }],
    /** A signed-in person on the user pages (session cookie). */
    session: [{ UserSession: [] }],
    public: [],
  };

/**
 * Bodies their handler parses itself, because its errors must take a special form (RFC 6749 on the
 * OAuth endpoints, per-activity errors on the ingest batch). The contract documents them from the
 * very schema the handler parses with, by reference (src/openapi/document.ts adds the component),
 * so the router does not validate them a second way.
 */
export const HANDLER_PARSED_SCHEMAS = new Map<string, z.ZodType>();
export function parsedByHandler(id: string, schema: z.ZodType) {
  HANDLER_PARSED_SCHEMAS.set(id, schema);
  return { $ref: `#/components/schemas/${id}` };
}

/** A form body (the OAuth endpoints also take the same fields as JSON). */
export const formBody = (id: string, schema: z.ZodType) => {
  const ref = parsedByHandler(id, schema);
  return { required: true, content: { 'application/x-www-form-urlencoded': { schema: ref }, 'application/json': { schema: ref } } };
};

/** The body of an OAuth 2.0 error (RFC 6749 §5.2): the problem fields plus `error` and `error_description`. */
export const oauthProblemSchema = problemSchema
  .extend({ error: z.string(), error_description: z.string() })
  .meta({ id: 'OAuthProblem', description: 'An RFC 7807 problem that is also an RFC 6749 error response' });

/** OAuth 2.0 errors (`application/json`, as OAuth clients expect); a malformed body is still a plain problem. */
export function oauthProblems<S extends 400 | 401 | 403>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      {
        description: DESCRIPTION_BY_STATUS[status],
        content: {
          'application/json': { schema: oauthProblemSchema },
          'application/problem+json': { schema: problemSchema },
        },
      },
    ]),
  ) as Record<
    S,
    {
      description: string;
      content: { 'application/json': { schema: typeof oauthProblemSchema }; 'application/problem+json': { schema: typeof problemSchema } };
    }
  >;
}

/** A server-rendered page (the user pages and the API reference). */
export const htmlPage = (description: string) => ({ description, content: { 'text/html': { schema: z.string() } } });

/** A redirect (`location` says where). */
export const redirect = (description: string) => ({
  description,
  headers: z.object({ location: z.string().meta({ description: 'Where the browser goes next' }) }),
});

/** On the user pages a problem is rendered as a page for the person reading it (same status). */
export function pageProblems<S extends ProblemStatus>(...statuses: S[]) {
  return Object.fromEntries(
    statuses.map((status) => [status, { ...htmlPage(`${DESCRIPTION_BY_STATUS[status]} Shown as a page.`) }]),
  ) as Record<S, { description: string; content: { 'text/html': { schema: z.ZodString } } }>;
}

/** A form the page itself posts (CSRF-protected); documented for completeness, not for API clients. */
export const pageForm = (fields: string) => ({
  required: true,
  description: `The page’s own form: ${fields}. Posted by the browser from this service’s page; a post from another origin or without the session’s CSRF token is refused.`,
  content: { 'application/x-www-form-urlencoded': { schema: { type: 'object' as const } } },
});
