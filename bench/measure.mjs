// What the bench measures, shared by its scenarios: latency percentiles, a run's summary, and waiting
// for arrivals.
import { sleep } from '../scripts/lib/service.mjs';

/** @param {number[]} values @param {number} p */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/**
 * Deliveries per second and ingest-to-receipt percentiles of the ids in `sentAt` that arrived.
 * @param {string} name @param {Map<string, number>} sentAt @param {Map<string, number>} arrivals @param {number} expected
 */
export function summarize(name, sentAt, arrivals, expected) {
  const latencies = [];
  let first = Infinity;
  let last = 0;
  for (const [id, at] of arrivals) {
    const t0 = sentAt.get(id);
    if (t0 === undefined) continue;
    latencies.push(at - t0);
    first = Math.min(first, t0);
    last = Math.max(last, at);
  }
  const seconds = (last - first) / 1000;
  return {
    name,
    expected,
    delivered: latencies.length,
    seconds: Number(seconds.toFixed(2)),
    perSecond: Math.round(latencies.length / seconds),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

/** Polls `predicate` every 100 ms until it holds or `timeoutMs` passed. @param {() => boolean} predicate @param {number} timeoutMs */
export async function waitUntil(predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate() && Date.now() < deadline) await sleep(100);
}
