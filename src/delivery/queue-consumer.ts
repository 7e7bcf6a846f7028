import { and, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import { type Settings, settings } from '../config';
import { database } from '../db/client';
import { webhooks } from '../db/schema';
import { webhookHistoryRow } from '../db/webhooks';
import { type DeliveryPath, deliveryMessageSchema, type HandOut } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';
import { parseObjectKey } from '../domain/shards';
import { countWork } from '../observability/work-counters';
import { discardAnswerBody } from './answer-body';
import { appObject } from './app-objects';
import { DeliveryRun } from './delivery-run';
import { afterTimeout, type RunItem, type RunPorts } from './delivery-run-ports';

/** How long one invocation keeps claiming and following busy lanes; slow-path invocations wait on slow receivers. */
const BUDGET_MS = { fast: 20_000, slow: 60_000 };

/** The attempt timeout and slow threshold a POST is measured against. */
type PostTimes = Pick<Settings, 'deliveryTimeoutMs' | 'slowWebhookMs'>;

/**
 * How long a POST may take on each queue. On the fast queue it is cut off at the slow threshold: a
 * webhook that has not answered by then is slow, and its request must not keep the invocation (and
 * the other apps' messages behind it on the local queue) open for a whole attempt timeout. The cut-off
 * is an attempt like any timeout (the receiver may have got it), retried on the schedule; by then the
 * webhook is on the slow queue, where a request gets the full DELIVERY_TIMEOUT_MS.
 */
function attemptTimeoutMs(path: DeliveryPath, times: PostTimes): number {
  return path === 'slow' ? times.deliveryTimeoutMs : Math.min(times.deliveryTimeoutMs, times.slowWebhookMs);
}

/**
 * POSTs one hand-out from a run on `path`'s queue: never follows redirects; the attempt timeout runs
 * from this moment, when the request really starts (the run never starts more than it has connections
 * for). `onSlow` fires if no answer came within the slow threshold.
 */
export async function postHandOut(handOut: HandOut, path: DeliveryPath, times: PostTimes, onSlow: () => void): Promise<AttemptResult> {
  const timeoutMs = attemptTimeoutMs(path, times);
  countWork('outbound_requests');
  const started = Date.now();
  const slowTimer = setTimeout(onSlow, times.slowWebhookMs);
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(handOut.url, { method: 'POST', headers: handOut.headers, body: handOut.body, redirect: 'manual', signal });
    const result = { status: response.status, latencyMs: Date.now() - started, retryAfter: response.headers.get('retry-after') };
    if (response.status >= 200 && response.status < 300) countWork('deliveries');
    // Still under the slow timer: a body that trickles holds the connection as a slow answer would.
    await discardAnswerBody(response, signal);
    return result;
  } catch (err) {
    const name = (err as Error)?.name;
    const error =
      name === 'TimeoutError' || name === 'AbortError'
        ? `timeout: no answer within ${timeoutMs} ms${path === 'fast' ? ' on the fast queue; retried on the slow queue' : ''}`
        : `network: ${(err as Error)?.message ?? 'request failed'}`;
    return { error, latencyMs: Date.now() - started };
  } finally {
    clearTimeout(slowTimer);
  }
}

/**
 * The queue consumer, for both the fast and the slow queue. It holds no secrets: it claims messages
 * from their app's object when it has a connection for them, POSTs what the object hands out, and
 * reports back (see DeliveryRun). A duplicate is possible, a loss is not.
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = settings(env);
  countWork('queue_messages_read', batch.messages.length);
  const items: RunItem[] = [];
  for (const message of batch.messages) {
    const parsed = deliveryMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error(`queue message ${message.id} is not a delivery message; dropped`);
      message.ack();
      continue;
    }
    items.push({ body: parsed.data, ack: () => message.ack(), retry: (delaySeconds) => message.retry({ delaySeconds }) });
  }
  const path: DeliveryPath = batch.queue.endsWith('-slow') ? 'slow' : 'fast';
  const ports: RunPorts = {
    now: () => Date.now(),
    object: (key) => {
      const { appId, shard } = parseObjectKey(key);
      return appObject(env, appId, shard);
    },
    post: (handOut, onSlow) => postHandOut(handOut, path, config, onSlow),
    markGone: (appId, webhookIds, at) => markGone(env, appId, webhookIds, at),
    after: afterTimeout,
    log: (message, err) => console.error(message, err ?? ''),
  };
  await new DeliveryRun(ports, items, { budgetMs: BUDGET_MS[path], path }).run();
}

/**
 * A 410 from a receiver disables its webhook in the control plane as well, as of the moment the
 * object saw it; a CRC that passed later is not overwritten.
 */
async function markGone(env: Env, appId: string, webhookIds: string[], at: number): Promise<void> {
  const db = database(env);
  const changed = await db
    .update(webhooks)
    .set({ valid: false, lastCrcAt: at, lastCrcError: 'delivery answered 410 Gone' })
    .where(
      and(
        eq(webhooks.appId, appId),
        inArray(webhooks.id, webhookIds),
        eq(webhooks.valid, true),
        or(isNull(webhooks.lastCrcAt), lte(webhooks.lastCrcAt, at)),
      ),
    )
    .returning();
  const history = changed.map((w) => webhookHistoryRow(db, w, { valid: false, at }));
  if (history.length > 0) await db.batch(history as [(typeof history)[number], ...typeof history]);
}
