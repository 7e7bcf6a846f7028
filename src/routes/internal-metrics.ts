import { Hono } from 'hono';
import { requirePlatform } from '../auth/platform';
import type { HonoEnv } from '../http/types';
import { resetWorkCounters, workCounters } from '../observability/work-counters';

/**
 * The billable-work counters (src/observability/work-counters.ts), for the operator and the bench.
 * They count what this isolate did since the last reset: locally the whole pipeline, in production
 * one isolate's share.
 */
export const internalMetrics = new Hono<HonoEnv>()
  .use(requirePlatform)
  .get('/work', (c) => c.json({ data: workCounters() }))
  .delete('/work', (c) => {
    resetWorkCounters();
    return c.json({ data: workCounters() });
  });
