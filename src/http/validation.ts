import type { MiddlewareHandler } from 'hono';
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

/**
 * Parses a JSON body. An empty body is read as `{}` (X's clients send an empty body with a JSON
 * content type); a non-empty body must be declared JSON and be well-formed.
 */
export function parseJsonBody(bytes: ArrayBuffer, contentType: string | undefined): unknown {
  const text = decodeUtf8(bytes);
  if (text.trim() === '') return {};
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
  return parsed;
}

/** `jsonBody(schema)` then `c.req.valid('json')` in the handler, typed by the schema. */
export const jsonBody =
  <S extends z.ZodType>(schema: S): MiddlewareHandler<HonoEnv, string, { in: { json: z.input<S> }; out: { json: z.output<S> } }> =>
  async (c, next) => {
    const body = parseJsonBody(await c.req.arrayBuffer(), c.req.header('content-type'));
    c.req.addValidatedData('json', parseWith(schema, body, 'invalid request body') as object);
    await next();
  };

/** Query parameters, validated the same way; X reports these with reason QueryParamInvalid. */
export const query =
  <S extends z.ZodType>(
    schema: S,
  ): MiddlewareHandler<HonoEnv, string, { in: { query: Record<string, string> }; out: { query: z.output<S> } }> =>
  async (c, next) => {
    const result = schema.safeParse(c.req.query());
    if (!result.success) {
      const errors = fieldErrors(result.error);
      throw invalid(`invalid query: ${errors[0].parameter}: ${errors[0].message}`, 'QueryParamInvalid', errors);
    }
    c.req.addValidatedData('query', result.data as object);
    await next();
  };

/**
 * Path ids are the service's own snowflake ids; anything else cannot name an object. Checks each
 * named path parameter (a bad one is reported with X's `reason` for it, if it has one) and hands them
 * on as `c.req.valid('param')`.
 */
export const pathIds =
  <K extends string>(reasons: Record<K, string | undefined>): MiddlewareHandler<HonoEnv, string, { out: { param: Record<K, string> } }> =>
  async (c, next) => {
    const ids = {} as Record<K, string>;
    for (const name of Object.keys(reasons) as K[]) {
      const value = c.req.param(name) ?? '';
      if (!/^[0-9]{1,19}$/.test(value)) {
        throw invalid(`${name} must be a numeric id of 1-19 digits`, reasons[name], [
          { parameter: name, message: 'must be a numeric id of 1-19 digits' },
        ]);
      }
      ids[name] = value;
    }
    c.req.addValidatedData('param', ids);
    await next();
  };

/** The webhook id of X's webhook paths, reported as X does. */
export const webhookIdPath = pathIds({ webhook_id: 'WebhookIdInvalid' });

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
