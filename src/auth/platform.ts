import { createMiddleware } from 'hono/factory';
import { constantTimeEqual } from '../domain/crypto';
import { unauthorized } from '../errors';
import type { HonoEnv } from '../http/types';

export const bearerToken = (header: string | undefined): string | null => {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match ? match[1] : null;
};

/** The operator's services: `Authorization: Bearer <PLATFORM_TOKEN>`, compared in constant time. */
export const requirePlatform = createMiddleware<HonoEnv>(async (c, next) => {
  const presented = bearerToken(c.req.header('authorization'));
  const expected = c.env.PLATFORM_TOKEN;
  if (!presented) throw unauthorized('missing platform bearer token');
  // An unset secret must never let an empty or guessed token through.
  if (!expected || !(await constantTimeEqual(presented, expected))) {
    throw unauthorized('invalid platform token');
  }
  await next();
});
