import { requirePlatform } from '../auth/platform';
import { apiRouter } from '../http/validation';
import { resetWorkCounters, workCounters } from '../observability/work-counters';
import { readWork, resetWork } from './contracts/internal-metrics';

/**
 * The billable-work counters (src/observability/work-counters.ts), for the operator and the bench.
 * They count what this isolate did since the last reset: locally the whole pipeline, in production
 * one isolate's share.
 */
export const internalMetrics = apiRouter();
internalMetrics.use(requirePlatform);
internalMetrics
  .openapi(readWork, (c) => c.json({ data: workCounters() }, 200))
  .openapi(resetWork, (c) => {
    resetWorkCounters();
    return c.json({ data: workCounters() }, 200);
  });
