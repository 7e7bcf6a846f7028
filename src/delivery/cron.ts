import { and, asc, eq, isNull, lte, or } from 'drizzle-orm';
import { settings } from '../config';
import { database } from '../db/client';
import { apps, type WebhookRow, webhooks } from '../db/schema';
import { revalidateWebhook } from './crc-check';

/** How many CRCs run at once in one cron pass: enough to finish, few enough to be gentle. */
const CRC_CONCURRENCY = 8;

export interface CronReport {
  checked: number;
  ok: number;
  hardFailures: number;
  transientFailures: number;
  invalidated: string[];
  revalidated: string[];
}

/**
 * Re-validates every live webhook whose last successful CRC is older than the revalidation age
 * (24 h by default). Invalid webhooks are due too, so one that recovers becomes valid again by itself.
 * The least recently checked go first; at most `crcBatchPerCron` per run.
 */
export async function revalidateDueWebhooks(env: Env, now: number): Promise<CronReport> {
  const config = settings(env);
  const db = database(env);
  const dueBefore = now - config.crcRevalidateAfterMs;
  const due = await db
    .select({ webhook: webhooks, consumerKey: apps.consumerKey })
    .from(webhooks)
    .innerJoin(apps, eq(apps.id, webhooks.appId))
    .where(and(isNull(webhooks.deletedAt), or(isNull(webhooks.lastCrcSuccessAt), lte(webhooks.lastCrcSuccessAt, dueBefore))))
    .orderBy(asc(webhooks.lastCrcAt))
    .limit(config.crcBatchPerCron);

  const report: CronReport = { checked: 0, ok: 0, hardFailures: 0, transientFailures: 0, invalidated: [], revalidated: [] };
  const check = async ({ webhook, consumerKey }: { webhook: WebhookRow; consumerKey: string }) => {
    const { outcome, valid } = await revalidateWebhook(env, db, webhook, {
      now,
      timeoutMs: config.crcTimeoutMs,
      invalidAfterMs: config.crcInvalidAfterMs,
      strict: false,
      consumerKey,
    });
    report.checked++;
    if (outcome.kind === 'ok') report.ok++;
    else if (outcome.kind === 'hard') report.hardFailures++;
    else report.transientFailures++;
    if (webhook.valid && !valid) report.invalidated.push(webhook.id);
    if (!webhook.valid && valid) report.revalidated.push(webhook.id);
  };
  const queue = [...due];
  const workers = Array.from({ length: Math.min(CRC_CONCURRENCY, queue.length) }, async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      try {
        await check(next);
      } catch (err) {
        // One webhook's failure (e.g. its object is unreachable) must not stop the others.
        console.error(`cron CRC of webhook ${next.webhook.id} failed`, err);
      }
    }
  });
  await Promise.all(workers);
  return report;
}
