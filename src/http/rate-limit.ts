import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { LimitDecision, LimitedEndpoint } from '../domain/rate-limits';
import { ApiError } from '../errors';
import { rateLimiter } from '../limits/rate-limiter-object';
import type { HonoEnv } from './types';

export const rateLimitHeaders = (d: LimitDecision): Record<string, string> => ({
  'x-rate-limit-limit': String(d.limit),
  'x-rate-limit-remaining': String(d.remaining),
  'x-rate-limit-reset': String(Math.ceil(d.resetAt / 1000)),
});

/** Who a request counts against: the authenticated app, or the platform on /internal/*. */
type Subject = (c: Context<HonoEnv>) => string;
export const byApp: Subject = (c) => `app:${c.get('app').id}`;
export const byPlatform: Subject = () => 'platform';

/**
 * Counts the request against `endpoint`'s limit for its subject (after authentication, so only
 * real callers are counted) and sets X's rate-limit headers; past the limit, 429 with retry-after.
 */
export const rateLimit = (endpoint: LimitedEndpoint, subject: Subject) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    const s = c.get('settings');
    const limit = s.rateLimits[endpoint];
    const decision = await rateLimiter(c.env, subject(c)).hit(endpoint, limit, s.rateLimitWindowMs);
    c.set('rateLimit', decision);
    if (!decision.allowed) {
      const retryAfter = Math.max(1, Math.ceil((decision.resetAt - Date.now()) / 1000));
      throw new ApiError('rate-limited', `${endpoint} allows ${decision.limit} requests per ${s.rateLimitWindowMs / 60_000} minutes`, {
        headers: { 'retry-after': String(retryAfter) },
      });
    }
    await next();
  });
