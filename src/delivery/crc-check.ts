import { and, eq, isNull, lte, or } from 'drizzle-orm';
import { USER_AGENT } from '../config';
import type { Database } from '../db/client';
import { type WebhookRow, webhooks } from '../db/schema';
import { webhookHistoryRow } from '../db/webhooks';
import { type CrcOutcome, validityAfterCrc } from '../domain/crc';
import { classifyCrcAnswer, classifyCrcError } from '../domain/crc-failures';
import { countWork } from '../observability/work-counters';
import { AppDelivery, appObject } from './app-objects';

/** The most of a CRC response we read: a correct answer is ~70 bytes. */
const MAX_CRC_BODY = 16 * 1024;

async function readBounded(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    chunks.push(value);
    if (size > MAX_CRC_BODY) {
      await reader.cancel();
      break;
    }
  }
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

/** The app whose secret the check uses; the consumer key only names it in failure messages. */
interface CrcApp {
  id: string;
  consumerKey?: string;
}

/**
 * Sends one CRC challenge (docs/delivery.md, "CRC"): a GET with a fresh `crc_token` and `nonce`, signed by the
 * app's object, never following redirects, bounded by `timeoutMs`. Only the object sees the secret.
 */
export async function runCrc(env: Env, app: CrcApp, url: string, timeoutMs: number): Promise<CrcOutcome> {
  // Shard 0: every shard of the app holds the same consumer secret.
  const challenge = await appObject(env, app.id).prepareCrc(app.id);
  countWork('outbound_requests');
  const context = { url, appId: app.id, consumerKey: app.consumerKey, timeoutMs };
  const target = new URL(url);
  target.searchParams.append('crc_token', challenge.crcToken);
  target.searchParams.append('nonce', challenge.nonce);
  try {
    const response = await fetch(target.href, {
      method: 'GET',
      headers: { 'x-twitter-webhooks-signature': challenge.signature, 'user-agent': USER_AGENT },
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const answer = {
      status: response.status,
      body: await readBounded(response),
      contentType: response.headers.get('content-type'),
      location: response.headers.get('location'),
    };
    return classifyCrcAnswer(answer, challenge.expectedResponseTokens, context);
  } catch (err) {
    return classifyCrcError(err, context);
  }
}

/**
 * Runs a CRC for a saved webhook and stores the outcome in D1 and in the app's object. `strict`
 * (a developer's PUT) invalidates on any failure; otherwise (the cron) transient failures only
 * invalidate after the configured streak.
 */
export async function revalidateWebhook(
  env: Env,
  db: Database,
  webhook: WebhookRow,
  opts: { now: number; timeoutMs: number; invalidAfterMs: number; strict: boolean; consumerKey?: string },
): Promise<{ outcome: CrcOutcome; valid: boolean }> {
  const outcome = await runCrc(env, { id: webhook.appId, consumerKey: opts.consumerKey }, webhook.url, opts.timeoutMs);
  const next =
    opts.strict && outcome.kind !== 'ok'
      ? { valid: false, lastCrcSuccessAt: webhook.lastCrcSuccessAt }
      : validityAfterCrc(webhook, outcome, opts.now, opts.invalidAfterMs);
  // The object is told first when a webhook loses validity (deliver less if the second write fails),
  // and last when it gains it.
  const object = await AppDelivery.load(env, webhook.appId);
  if (!next.valid) await object.setWebhookValid(webhook.id, false, opts.now);
  const record = db
    .update(webhooks)
    .set({
      valid: next.valid,
      lastCrcAt: opts.now,
      lastCrcSuccessAt: next.lastCrcSuccessAt,
      lastCrcError: outcome.kind === 'ok' ? null : `${outcome.kind}: ${outcome.reason}`,
    })
    // A later CRC outcome (or a 410 seen by a delivery) already recorded is not overwritten.
    .where(and(eq(webhooks.id, webhook.id), isNull(webhooks.deletedAt), or(isNull(webhooks.lastCrcAt), lte(webhooks.lastCrcAt, opts.now))));
  if (next.valid === webhook.valid) await record;
  else await db.batch([record, webhookHistoryRow(db, webhook, { valid: next.valid, at: opts.now })]);
  if (next.valid) await object.setWebhookValid(webhook.id, true, opts.now);
  return { outcome, valid: next.valid };
}
