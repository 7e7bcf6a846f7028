import { Hono } from 'hono';
import { PROBLEMS, type ProblemKind } from '../errors';
import type { HonoEnv } from '../http/types';

/** The `type` URIs of problem bodies resolve here, to a short human explanation. */
export const problems = new Hono<HonoEnv>().get('/:kind', (c) => {
  const kind = c.req.param('kind') as ProblemKind;
  if (!(kind in PROBLEMS)) return c.notFound();
  const { status, title, description } = PROBLEMS[kind];
  return c.json({ type: kind, status, title, description });
});
