import { and, eq, inArray } from 'drizzle-orm';
import { settings } from '../config';
import { database } from '../db/client';
import { webhooks } from '../db/schema';
import { type AttemptReport, type ClaimedRequest, type DeliveryMessage, deliveryMessageSchema } from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';
import { appObject } from './app-objects';

/** When an app's object cannot be reached, its messages come back after this. */
const RETRY_DELAY_SECONDS = 5;
/** How long one consumer invocation keeps following busy lanes before handing them back to the queue. */
const CHAIN_BUDGET_MS = 30_000;

/** POSTs one claimed request: never follows redirects, gives up at the attempt deadline. */
async function attempt(request: ClaimedRequest, timeoutMs: number): Promise<AttemptReport> {
  const started = Date.now();
  let result: AttemptResult;
  try {
    const response = await fetch(request.url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    result = { status: response.status, latencyMs: Date.now() - started, retryAfter: response.headers.get('retry-after') };
    await response.body?.cancel();
  } catch (err) {
    const name = (err as Error)?.name;
    const error =
      name === 'TimeoutError' || name === 'AbortError'
        ? `timeout: no answer within ${timeoutMs} ms`
        : `network: ${(err as Error)?.message ?? 'request failed'}`;
    result = { error, latencyMs: Date.now() - started };
  }
  return { seq: request.seq, deliveryId: request.deliveryId, attempt: request.attempt, result, startedAt: started };
}

/**
 * Sends one app's claimed requests and reports outcomes. Reports are coalesced: while one report
 * call is in flight, finished attempts gather, and the next call carries them all, so a slow
 * receiver never holds back the report of a fast one. Each report may hand back the next message
 * of the lanes it advanced, which is sent at once (see `AppDeliveryObject.report`).
 */
async function deliverForApp(env: Env, appId: string, first: ClaimedRequest[], timeoutMs: number): Promise<string[]> {
  const object = appObject(env, appId);
  const deadline = Date.now() + CHAIN_BUDGET_MS;
  const gone = new Set<string>();
  const finished: AttemptReport[] = [];
  let inFlight = 0;
  let reporting: Promise<void> | null = null;
  let failure: unknown = null;
  let wake: () => void = () => {};

  const start = (requests: ClaimedRequest[]) => {
    for (const request of requests) {
      inFlight++;
      void attempt(request, timeoutMs).then((report) => {
        inFlight--;
        finished.push(report);
        flush();
      });
    }
  };
  const flush = () => {
    if (reporting || finished.length === 0 || failure) return wake();
    const batch = finished.splice(0);
    reporting = object
      .report(appId, batch, { chain: Date.now() < deadline })
      .then(({ goneWebhooks, next }) => {
        for (const id of goneWebhooks) gone.add(id);
        start(next);
      })
      .catch((err) => {
        failure = err;
      })
      .finally(() => {
        reporting = null;
        flush();
      });
  };

  start(first);
  await new Promise<void>((resolve) => {
    wake = () => {
      if (failure || (inFlight === 0 && !reporting && finished.length === 0)) resolve();
    };
    wake();
  });
  if (failure) throw failure;
  return [...gone];
}

/**
 * The queue consumer. It holds no secrets: per app in the batch it claims the still-live deliveries
 * from that app's object (one call), POSTs them concurrently, and reports the outcomes back. If
 * anything fails before a report, the messages are retried and the same deliveries are claimed again
 * (same webhook-id); what was chained past the queue is released again by the object's lease alarm.
 * A duplicate is possible, a loss is not.
 */
export async function consumeDeliveries(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  const config = settings(env);
  const byApp = new Map<string, { message: Message<unknown>; body: DeliveryMessage }[]>();
  for (const message of batch.messages) {
    const parsed = deliveryMessageSchema.safeParse(message.body);
    if (!parsed.success) {
      console.error(`queue message ${message.id} is not a delivery message; dropped`);
      message.ack();
      continue;
    }
    const list = byApp.get(parsed.data.app) ?? [];
    list.push({ message, body: parsed.data });
    byApp.set(parsed.data.app, list);
  }

  await Promise.all(
    [...byApp].map(async ([appId, items]) => {
      try {
        const claimed = await appObject(env, appId).claim(
          appId,
          items.map((i) => i.body),
        );
        const goneWebhooks = await deliverForApp(env, appId, claimed, config.deliveryTimeoutMs);
        if (goneWebhooks.length > 0) await markGone(env, appId, goneWebhooks);
        for (const item of items) item.message.ack();
      } catch (err) {
        console.error(`deliveries for app ${appId} will be retried`, err);
        for (const item of items) item.message.retry({ delaySeconds: RETRY_DELAY_SECONDS });
      }
    }),
  );
}

/** A 410 from a receiver disables its webhook in the control plane as well. */
async function markGone(env: Env, appId: string, webhookIds: string[]): Promise<void> {
  await database(env)
    .update(webhooks)
    .set({ valid: false, lastCrcError: 'delivery answered 410 Gone' })
    .where(and(eq(webhooks.appId, appId), inArray(webhooks.id, webhookIds)));
}
