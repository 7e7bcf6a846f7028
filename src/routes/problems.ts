import { notFound, PROBLEMS, type ProblemKind } from '../errors';
import { apiRouter } from '../http/validation';
import { explainProblem } from './contracts/problems';

/** The `type` URIs of problem bodies resolve here, to a short human explanation. */
export const problems = apiRouter();
problems.openapi(explainProblem, (c) => {
  const kind = c.req.valid('param').kind as ProblemKind;
  // Worded as the app's own 404 for a route that does not exist.
  if (!(kind in PROBLEMS)) throw notFound(`no route for ${c.req.method} ${c.req.path}`);
  const { status, title, description } = PROBLEMS[kind];
  return c.json({ type: kind, status, title, description }, 200);
});
