/**
 * Cloudflare's public list prices (Workers Paid plan, beyond the included amounts), as published on
 * developers.cloudflare.com and checked on 2026-11-25. docs/scaling.md carries the same table; change
 * both together when Cloudflare's prices change.
 */
export const PRICES_CHECKED_ON = '2026-11-25';

/** US dollars per unit. */
export const PRICES = {
  /** Workers Standard: per request (HTTP request or queue consumer invocation). */
  workerRequest: 0.3 / 1e6,
  /** Durable Objects: per request (every RPC call on a stub is one). */
  doRequest: 0.15 / 1e6,
  /** Queues: per operation; a message costs a write, a read and a delete (ack), each per 64 KB. */
  queueOperation: 0.4 / 1e6,
  /** D1 and SQLite-backed Durable Objects price rows alike. */
  rowRead: 0.001 / 1e6,
  rowWritten: 1.0 / 1e6,
};

/**
 * The bill for one million deliveries from the counted work per delivery (src/observability/
 * work-counters.ts). Left out because they are not counted: Workers CPU time ($0.02 per million
 * CPU-ms), Durable Object duration ($12.50 per million GB-s, billed while an object is busy), storage
 * per GB-month. Outbound requests are not billed.
 * @param {Record<string, number>} perDelivery
 */
export function billPerMillionDeliveries(perDelivery) {
  const n = (/** @type {string} */ k) => perDelivery[k] ?? 0;
  const lines = {
    'Workers requests': n('worker_invocations') * PRICES.workerRequest,
    'Durable Object requests': n('do_requests') * PRICES.doRequest,
    'Queue operations': (n('queue_messages_written') + 2 * n('queue_messages_read')) * PRICES.queueOperation,
    'D1 rows': n('d1_rows_read') * PRICES.rowRead + n('d1_rows_written') * PRICES.rowWritten,
    'object storage rows': n('object_rows_read') * PRICES.rowRead + n('object_rows_written') * PRICES.rowWritten,
  };
  const perMillion = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, round(v * 1e6)]));
  return { ...perMillion, total: round(Object.values(lines).reduce((a, b) => a + b, 0) * 1e6) };
}

const round = (/** @type {number} */ usd) => Math.round(usd * 1000) / 1000;
