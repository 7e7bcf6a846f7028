import type { MiddlewareHandler } from 'hono';
import { z } from 'zod';
import type { HonoEnv } from './types';
import { parseWith } from './validation';

/**
 * Form and query fields of the portal's and console's pages. Browsers send an empty field as '';
 * that means "not given". Times come from `datetime-local` inputs and are read as UTC (the pages
 * run no script to know the browser's zone, and say UTC next to every such field).
 */

const LOCAL_MINUTE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(:\d{2})?$/;

/** `2024-06-01T12:30` → epoch ms, read as UTC; null if it is not a real date and time. */
export function utcFromLocal(value: string): number | null {
  const m = LOCAL_MINUTE.exec(value);
  if (!m) return null;
  const ms = Date.parse(`${value.length === 16 ? `${value}:00` : value}Z`);
  return Number.isFinite(ms) && new Date(ms).toISOString().startsWith(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}`) ? ms : null;
}

/** An epoch time as a `datetime-local` value in UTC, to the minute. */
export const localFromUtc = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

/** A blank field as undefined. */
const blank = (v: unknown) => (v === '' ? undefined : v);

/** An optional `datetime-local` field, as epoch ms (UTC). */
export const optionalLocalTime = z.preprocess(
  blank,
  z
    .string()
    .transform((value, ctx) => {
      const ms = utcFromLocal(value);
      if (ms === null) {
        ctx.addIssue({ code: 'custom', message: 'must be a date and time like 2024-06-01T12:30 (UTC)' });
        return z.NEVER;
      }
      return ms;
    })
    .optional(),
);

/** A required `datetime-local` field, as epoch ms (UTC). */
export const localTime = z.string({ error: 'is required' }).transform((value, ctx) => {
  const ms = utcFromLocal(value);
  if (ms === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a date and time like 2024-06-01T12:30 (UTC)' });
    return z.NEVER;
  }
  return ms;
});

/** An optional numeric id field (user ids, page tokens). */
export const optionalId = z.preprocess(
  blank,
  z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
);

/** An optional choice among `values`. */
export const optionalChoice = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess(blank, z.enum(values, { error: `must be one of ${values.join(', ')}` }).optional());

/**
 * A page's query, parsed with `schema` (then `c.req.valid('query')`); a bad one is a 400 page naming
 * the field. Pages keep their own validation: they are not in the API's contracts.
 */
export const pageQuery =
  <S extends z.ZodType>(
    schema: S,
  ): MiddlewareHandler<HonoEnv, string, { in: { query: Record<string, string> }; out: { query: z.output<S> } }> =>
  async (c, next) => {
    c.req.addValidatedData('query', parseWith(schema, c.req.query(), 'invalid query') as object);
    await next();
  };

const numericId = z.string().regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits');

/** The numeric ids in a page's path (then `c.req.valid('param')`); a malformed one is a 400 page naming it. */
export const pageIds = <K extends string>(...names: K[]): MiddlewareHandler<HonoEnv, string, { out: { param: Record<K, string> } }> => {
  const schema = z.object(Object.fromEntries(names.map((name) => [name, numericId])));
  return async (c, next) => {
    c.req.addValidatedData('param', parseWith(schema, c.req.param(), 'invalid path'));
    await next();
  };
};
