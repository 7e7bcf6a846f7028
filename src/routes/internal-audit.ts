import { requirePlatform } from '../auth/platform';
import { verifyPage } from '../delivery/audit-run';
import { invalid } from '../errors';
import { byPlatform, rateLimit } from '../http/rate-limit';
import { apiRouter } from '../http/validation';
import { verifyLedgers } from './contracts/internal-audit';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const DAY = 86_400_000;
function window(q: { from?: number; to?: number }, defaultSpanMs: number) {
  const to = q.to ?? Date.now() + 1;
  const from = q.from ?? to - defaultSpanMs;
  if (from >= to) throw invalid('from must be before to', 'QueryParamInvalid', [{ parameter: 'from', message: 'must be before to' }]);
  return { from, to };
}

export const internalAudit = apiRouter();
internalAudit.use(requirePlatform, rateLimit('platform:other', byPlatform));
internalAudit
  /**
   * Re-checks every attempt that did or may have reached a receiver in [from, to) (default: the last
   * 24 h) against the kept history in D1, independently of the objects that decided to send
   * (src/delivery/audit-run.ts). Bounded work per request: follow `meta.next_cursor` to go on. Each
   * violation names the app, the user, the event and the destination, enough to notify the user.
   */
  .openapi(verifyLedgers, async (c) => {
    const q = c.req.valid('query');
    const { from, to } = window(q, DAY);
    const page = await verifyPage(c.env, { from, to, appId: q.app_id, cursor: q.cursor, budget: q.max_entries });
    return c.json(
      {
        data: { from: iso(from), to: iso(to), checked: page.checked, violations: page.violations },
        meta: page.nextCursor ? { next_cursor: page.nextCursor } : {},
      },
      200,
    );
  });
