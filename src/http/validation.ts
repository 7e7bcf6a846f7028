import { type Hook, OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { z } from 'zod';
import { ApiError, type FieldError, invalid } from '../errors';
import type { HonoEnv } from './types';

/** zod issues → the `errors` list of a problem body, with paths spelled the way the client wrote them. */
export function fieldErrors(error: z.ZodError, root?: string): FieldError[] {
  return error.issues.map((issue) => {
    let parameter = root ?? '';
    for (const key of issue.path) {
      parameter += typeof key === 'number' ? `[${key}]` : parameter ? `.${String(key)}` : String(key);
    }
    if (issue.code === 'unrecognized_keys') {
      return { parameter: [parameter, issue.keys.join(', ')].filter(Boolean).join('.'), message: 'unknown field' };
    }
    return { parameter: parameter || 'body', message: issue.message };
  });
}

function validationError(error: z.ZodError, what: string, root?: string): ApiError {
  const errors = fieldErrors(error, root);
  const first = errors[0];
  return invalid(`${what}: ${first.parameter}: ${first.message}`, undefined, errors);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

const JSON_MEDIA = /^application\/([\w.-]+\+)?json$/i;

/** Shape limits on any JSON body, checked before schemas: nesting depth and string length. */
const MAX_JSON_DEPTH = 32;
const MAX_STRING_LENGTH = 64 * 1024;

/** Walks a parsed body without recursion (so a hostile body cannot exhaust the stack). */
export function checkJsonShape(value: unknown): void {
  const stack: { value: unknown; depth: number; path: string }[] = [{ value, depth: 0, path: 'body' }];
  while (stack.length > 0) {
    const { value: v, depth, path } = stack.pop()!;
    if (typeof v === 'string' && v.length > MAX_STRING_LENGTH) {
      throw invalid(`${path} is longer than ${MAX_STRING_LENGTH} characters`, undefined, [
        { parameter: path, message: `must be at most ${MAX_STRING_LENGTH} characters` },
      ]);
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw invalid(`request body is nested deeper than ${MAX_JSON_DEPTH} levels`, undefined, [
        { parameter: path, message: `nesting deeper than ${MAX_JSON_DEPTH} levels` },
      ]);
    }
    if (Array.isArray(v)) {
      for (const [i, item] of v.entries()) stack.push({ value: item, depth: depth + 1, path: `${path}[${i}]` });
    } else for (const [k, item] of Object.entries(v)) stack.push({ value: item, depth: depth + 1, path: `${path}.${k}` });
  }
}

/** Bodies must be UTF-8; a malformed byte sequence is refused rather than silently replaced. */
export function decodeUtf8(bytes: ArrayBuffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw invalid('request body is not valid UTF-8');
  }
}

/** A JSON body read by the rules every endpoint shares; `blank` says it was empty (or only whitespace). */
function readJsonBody(bytes: ArrayBuffer, contentType: string | undefined): { value: unknown; blank: boolean } {
  const text = decodeUtf8(bytes);
  if (text.trim() === '') return { value: {}, blank: true };
  const mediaType = (contentType ?? '').split(';')[0].trim();
  if (!JSON_MEDIA.test(mediaType)) {
    throw new ApiError('unsupported-media-type', 'request body must be application/json');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('request body is not valid JSON');
  }
  checkJsonShape(parsed);
  return { value: parsed, blank: false };
}

/**
 * Parses a JSON body. An empty body is read as `{}` (X's clients send an empty body with a JSON
 * content type); a non-empty body must be declared JSON and be well-formed.
 */
export function parseJsonBody(bytes: ArrayBuffer, contentType: string | undefined): unknown {
  return readJsonBody(bytes, contentType).value;
}

/**
 * The rules every JSON body meets before its route's schema sees it: declared JSON (else 415), UTF-8,
 * well-formed, within the depth and string limits, each refused with our own problem. The schema
 * itself is then checked by the route's validator (@hono/zod-openapi, `request.body` of the route),
 * which re-reads the same bytes. An empty body stands for `{}` (X's clients send one, with or without
 * a content type), so it is handed on as no body at all, which the validator reads as `{}`.
 */
export const jsonRequest = createMiddleware<HonoEnv>(async (c, next) => {
  const { blank } = readJsonBody(await c.req.arrayBuffer(), c.req.header('content-type'));
  if (blank) {
    const headers = new Headers(c.req.raw.headers);
    headers.delete('content-type');
    headers.delete('content-length');
    c.req.raw = new Request(c.req.url, { method: c.req.method, headers });
    c.req.bodyCache = {};
  }
  await next();
});

/** X's failure name for a malformed path id, by parameter name. */
const PATH_ID_REASONS: Record<string, string> = { webhook_id: 'WebhookIdInvalid', subscription_id: 'SubscriptionIdInvalid' };

/** The problem for a request that fails its route's schema, worded by where the bad input was. */
export function validationProblem(target: string, error: z.ZodError): ApiError {
  const errors = fieldErrors(error);
  const { parameter, message } = errors[0];
  if (target === 'query') return invalid(`invalid query: ${parameter}: ${message}`, 'QueryParamInvalid', errors);
  if (target === 'param') return invalid(`${parameter} ${message}`, PATH_ID_REASONS[parameter], errors);
  return invalid(`invalid request body: ${parameter}: ${message}`, undefined, errors);
}

/**
 * What every router does with a request that fails its route's schema: throws the one error type,
 * so app.ts renders it like any other problem (status, shape and headers unchanged).
 */
export const rejectInvalid: Hook<unknown, HonoEnv, string, void> = (result) => {
  if (!result.success) throw validationProblem(result.target, result.error);
};

/**
 * A router whose routes declare themselves (`router.openapi(route, handler)` with a route from
 * `src/routes/contracts/`): the same zod schemas validate requests and make the OpenAPI document.
 */
export const apiRouter = () => new OpenAPIHono<HonoEnv>({ defaultHook: rejectInvalid });

/** A time in a query: ISO-8601 or epoch milliseconds. */
export const timeQuery = z.string().transform((value, ctx) => {
  const ms = /^\d+$/.test(value) ? Number(value) : /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) {
    ctx.addIssue({ code: 'custom', message: 'must be an ISO-8601 date-time or epoch milliseconds' });
    return z.NEVER;
  }
  return ms;
});

/** Page size and cursor of ledger listings; the cursor is the last entry id of the previous page. */
export const ledgerPage = {
  max_results: z.coerce.number().int().min(1).max(500).default(100),
  pagination_token: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'pagination_token is not one this API issued')
    .optional(),
};
