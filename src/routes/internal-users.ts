import { Hono } from 'hono';
import { requirePlatform } from '../auth/platform';
import { accessReport } from '../delivery/access-report';
import { byPlatform, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { pathIds } from '../http/validation';

export const internalUsers = new Hono<HonoEnv>()
  .use(requirePlatform, rateLimit('platform:other', byPlatform))
  /** A user's access report: every app they ever authorized and what it received of their data. */
  .get('/:user_id/access', pathIds({ user_id: undefined }), async (c) => {
    return c.json({ data: await accessReport(c.env, c.req.valid('param').user_id) });
  });
