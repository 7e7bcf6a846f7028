import type { AttemptReport, DeliveryMessage, ReportOptions, ReportResult } from '../domain/delivery-protocol';
import { describeResult, judgeAttempt } from '../domain/retry';
import { markSlow, observeAttempt } from './health';
import type { Release } from './lanes';
import type { OutboxRow } from './storage/outbox-store';
import type { TenantDelivery } from './tenant-delivery';

/*
 * What the consumer tells an app's object after its POSTs: the outcomes of hand-outs (reports), and
 * the messages it claimed but never started. Both run inside the object, on its TenantDelivery.
 */
/**
 * Outcomes of hand-outs. Each completes its ledger row (even a late one); the current hand-out of a
 * message then finishes it, schedules its retry, holds it (410 disables the webhook), or, if it was
 * never started, releases it again as the same attempt. With `chain`, up to `capacity` lane heads
 * this report released come back handed out in `next`, so a busy lane moves at the receiver's pace.
 */
export async function reportAttempts(
  delivery: TenantDelivery,
  appId: string,
  reports: AttemptReport[],
  options: ReportOptions = {},
): Promise<ReportResult> {
  delivery.tenantFor(appId);
  const { outbox, ledger, webhooks } = delivery.store;
  const now = delivery.ports.now();
  const out: Release[] = [];
  const gone = new Set<string>();
  let wake = Number.POSITIVE_INFINITY;
  for (const report of reports) {
    const message = outbox.message(report.seq);
    // Only a report of what was really handed out counts: its ledger row is written only if it is
    // that hand-out (recordOutcome matches message and attempt); anything else changes nothing.
    if (message?.delivery_id !== report.deliveryId) continue;
    const row = outbox.outboxRow(report.seq);
    const current = row?.state === 'handed' && row.hand_out_id === report.handOutId ? row : null;
    if (report.startedAt === null || report.result === null) {
      const notSent = { outcome: 'not_sent', startedAt: null, statusCode: null, error: null, latencyMs: null } as const;
      if (!ledger.recordOutcome(report, notSent)) continue;
      if (current) {
        outbox.markWaiting(current.seq, current.attempt, now);
        delivery.lanes.releaseLane(current.lane, now, out);
      }
      continue;
    }
    const verdict = judgeAttempt(report.result, report.attempt, delivery.settings.retryScheduleSeconds, now);
    const { statusCode, error } = describeResult(report.result);
    const outcome = verdict.kind === 'retry' ? 'retrying' : verdict.kind;
    const recorded = ledger.recordOutcome(report, {
      outcome,
      startedAt: report.startedAt,
      statusCode,
      error,
      latencyMs: report.result.latencyMs,
    });
    if (!recorded) continue;
    // The message keeps the attempt: in the same write as its end when the attempt ends it.
    const attempt = { at: report.startedAt, statusCode, error, attempt: report.attempt };
    observeAttempt(webhooks, message.webhook_id, report.result, delivery.settings.slowWebhookMs, now);
    if (!current) {
      // Late: withdrawn meanwhile, or given up as outcome unknown and retried. If it says delivered and
      // no later hand-out of the message is out, the message is done: retrying a delivered event
      // would only send it again, and a failure would contradict the record. (Nothing above changed
      // the outbox row read at the top.)
      if (verdict.kind === 'delivered' && row && row.state !== 'handed') {
        outbox.finish(row.seq, 'delivered', now, attempt);
        delivery.lanes.afterFinish(message, now, out);
        delivery.lanes.releaseLane(row.lane, now, out);
      } else outbox.recordAttempt(report.seq, attempt);
      continue;
    }
    switch (verdict.kind) {
      case 'delivered':
      case 'failed':
        outbox.finish(current.seq, verdict.kind, now, attempt);
        delivery.lanes.afterFinish(message, now, out);
        delivery.lanes.releaseLane(current.lane, now, out);
        break;
      case 'retry':
        outbox.recordAttempt(report.seq, attempt);
        outbox.markWaiting(current.seq, current.attempt + 1, now + verdict.delayMs);
        wake = Math.min(wake, now + verdict.delayMs);
        delivery.lanes.releaseLane(current.lane, now, out); // a zero delay goes now
        break;
      case 'gone':
        outbox.recordAttempt(report.seq, attempt);
        webhooks.setWebhookValid(message.webhook_id, false, now);
        outbox.markWaiting(current.seq, current.attempt + 1, now);
        delivery.lanes.releaseLane(current.lane, now, out); // held until a CRC passes
        gone.add(message.webhook_id);
        break;
    }
  }
  for (const webhookId of options.slowWebhooks ?? []) markSlow(webhooks, webhookId);
  const capacity = options.chain ? Math.max(0, options.capacity ?? 0) : 0;
  // Only heads of webhooks on the reporting consumer's path are chained: one that turned slow goes on
  // the slow queue, never back to a fast run that would refuse it again (a loop as fast as they talk).
  const onPath = (row: OutboxRow) => !options.pull || webhooks.pathOf(row.webhook_id) === options.pull;
  const rowsOf = (releases: Release[]) =>
    releases.map((r) => outbox.outboxRow(r.seq)).filter((row): row is OutboxRow => row?.state === 'released' && onPath(row));
  // Live deliveries first (the lanes this report advanced, then other released ones), replay copies
  // only in the room left: a replay's backlog never stands between a live event and the run.
  const chained = takeReleases(out, capacity, (r) => !r.replay);
  const candidates = rowsOf(chained);
  if (options.pull && capacity > 0) {
    delivery.pullReleased(
      candidates,
      capacity,
      options.pull,
      new Set(out.map((r) => r.seq).concat(candidates.map((r) => r.seq))),
      now,
      out,
    );
  }
  const copies = takeReleases(out, capacity - candidates.length, (r) => r.replay === true);
  chained.push(...copies);
  candidates.push(...rowsOf(copies));
  const next = await delivery.handOut(candidates);
  // A chained head that could not be handed out after all still needs its queue message.
  const handed = new Set(next.map((h) => h.seq));
  for (const r of chained) {
    const row = outbox.outboxRow(r.seq);
    if (!handed.has(r.seq) && row?.state === 'released' && row.release === r.release) out.push(r);
  }
  await delivery.send(out);
  if (wake < Number.POSITIVE_INFINITY) await delivery.ports.wakeBy(wake);
  if (next.length > 0) await delivery.ports.wakeBy(next[0].startBy + delivery.handOutLeaseMs());
  return { goneWebhooks: [...gone], at: now, next };
}

/** Messages a consumer claimed but could not start before its invocation ended: released again. */
export async function returnUnclaimed(delivery: TenantDelivery, appId: string, items: DeliveryMessage[]): Promise<void> {
  const { shard } = delivery.tenantFor(appId).placement;
  const now = delivery.ports.now();
  const out: Release[] = [];
  for (const item of items) {
    if ((item.shard ?? 0) !== shard) continue;
    const row = delivery.store.outbox.outboxRow(item.seq);
    if (row?.state !== 'released' || row.release !== item.release) continue;
    delivery.store.outbox.markWaiting(row.seq, row.attempt, now);
    delivery.lanes.releaseLane(row.lane, now, out);
  }
  await delivery.send(out);
}

/** Takes up to `count` releases matching `which` out of `out`, in order. */
function takeReleases(out: Release[], count: number, which: (r: Release) => boolean): Release[] {
  const taken: Release[] = [];
  for (let i = 0; i < out.length && taken.length < count; ) {
    if (which(out[i])) taken.push(...out.splice(i, 1));
    else i++;
  }
  return taken;
}
