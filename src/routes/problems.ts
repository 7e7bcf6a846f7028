import { Hono } from 'hono';
import { PROBLEMS, type ProblemKind } from '../errors';
import type { HonoEnv } from '../http/types';

const DESCRIPTIONS: Record<ProblemKind, string> = {
  'invalid-request':
    "The request was malformed or failed validation. `errors` names each offending parameter; `reason` carries X's failure name where one applies.",
  unauthorized: 'Credentials are missing or invalid for this endpoint.',
  forbidden: 'The credentials are valid but not allowed to do this (app not active, wrong token kind, a limit reached).',
  'not-found': 'No such route or object for these credentials. Objects of other tenants are reported as not found.',
  'method-not-allowed': 'The route exists but not with this method; see the Allow header.',
  conflict: 'The request conflicts with the current state (a duplicate, a running job).',
  'payload-too-large': 'The request body is larger than this endpoint accepts.',
  'unsupported-media-type': 'The request body is not in a format this endpoint accepts.',
  'rate-limited': 'Too many requests; retry after the time in the retry-after header.',
  'internal-error': 'An unexpected error. It is a bug: report the x-request-id.',
  'service-unavailable': 'A dependency did not answer. Nothing was lost: send the same request again after retry-after.',
};

/** The `type` URIs of problem bodies resolve here, to a short human explanation. */
export const problems = new Hono<HonoEnv>().get('/:kind', (c) => {
  const kind = c.req.param('kind') as ProblemKind;
  if (!(kind in PROBLEMS)) return c.notFound();
  return c.json({ type: kind, ...PROBLEMS[kind], description: DESCRIPTIONS[kind] });
});
