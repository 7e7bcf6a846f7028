import { createRoute } from '@hono/zod-openapi';
import { z } from 'zod';
import { PROBLEMS } from '../../errors';
import { json, problems, SECURITY } from './common';

/** `/problems`: where the `type` URI of every problem body resolves. */

export const explainProblem = createRoute({
  method: 'get',
  path: '/{kind}',
  operationId: 'explainProblem',
  tags: ['Service'],
  summary: 'What a problem type means',
  security: SECURITY.public,
  request: {
    params: z.object({ kind: z.string().meta({ description: `One of ${Object.keys(PROBLEMS).join(', ')}`, example: 'not-found' }) }),
  },
  responses: {
    200: json(z.object({ type: z.string(), status: z.number().int(), title: z.string(), description: z.string() }), 'The explanation'),
    ...problems(404),
  },
});
