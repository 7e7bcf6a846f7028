/**
 * Per-endpoint request limits per 15-minute window, in X's style (its Account Activity figures are
 * the defaults for the developer surface); the platform's own endpoints have their own, higher ones.
 * Each endpoint is counted on its own. The developer portal's actions count against the limits of the
 * API calls they mirror; its pages, its test events and failed sign-ins have limits of their own.
 * Pure.
 */
export const DEFAULT_LIMITS = {
  'webhooks:create': 15,
  'webhooks:list': 15,
  'webhooks:validate': 15,
  'webhooks:delete': 15,
  'webhooks:rotate-secret': 15,
  'subscriptions:create': 500,
  'subscriptions:check': 500,
  'subscriptions:delete': 500,
  'subscriptions:list': 50,
  'subscriptions:count': 15,
  replay: 5,
  deliveries: 180,
  'activity:subscriptions:create': 500,
  'activity:subscriptions:list': 50,
  'activity:subscriptions:update': 500,
  'activity:subscriptions:delete': 500,
  'activity:stream': 50,
  'webhooks:test': 30,
  'portal:pages': 600,
  'portal:sign-in-failures': 10,
  'console:sign-in-failures': 10,
  'oauth2:token': 60,
  'oauth2:invalidate': 60,
  'oauth2:user-token': 20_000,
  'oauth2:revoke': 20_000,
  'oauth2:client': 60,
  'platform:ingest': 60_000,
  'platform:other': 10_000,
} as const;

export type LimitedEndpoint = keyof typeof DEFAULT_LIMITS;

/** Defaults, overridden by the `RATE_LIMITS` setting (a JSON object of endpoint → limit). */
export function limitsFrom(override: string | undefined): Record<LimitedEndpoint, number> {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  if (!override) return limits as Record<LimitedEndpoint, number>;
  try {
    for (const [key, value] of Object.entries(JSON.parse(override) as Record<string, unknown>)) {
      if (key in DEFAULT_LIMITS && Number.isInteger(value) && (value as number) > 0) limits[key] = value as number;
    }
  } catch {
    // A malformed setting keeps the defaults rather than lifting every limit.
  }
  return limits as Record<LimitedEndpoint, number>;
}

interface WindowCount {
  windowStart: number;
  count: number;
}

export interface LimitDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** When the current window ends (epoch ms). */
  resetAt: number;
}

/** Fixed windows aligned to the epoch: one request more or refused, and the count to store. */
export function decide(
  stored: WindowCount | null,
  limit: number,
  windowMs: number,
  now: number,
): { decision: LimitDecision; next: WindowCount } {
  const windowStart = Math.floor(now / windowMs) * windowMs;
  const count = stored && stored.windowStart === windowStart ? stored.count : 0;
  const allowed = count < limit;
  const used = allowed ? count + 1 : count;
  return {
    decision: { allowed, limit, remaining: Math.max(0, limit - used), resetAt: windowStart + windowMs },
    next: { windowStart, count: used },
  };
}

/** The decision one more request would get, without counting it. */
export function peek(stored: WindowCount | null, limit: number, windowMs: number, now: number): LimitDecision {
  return decide(stored, limit, windowMs, now).decision;
}
