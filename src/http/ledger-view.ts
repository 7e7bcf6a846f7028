import type { LedgerEntry, LedgerFilter } from '../app-object/storage/ledger-store';
import { appObject } from '../delivery/app-objects';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * What happens next to the delivery an attempt belongs to, so a developer can tell why an event
 * has not arrived (yet).
 */
function nextStep(e: LedgerEntry): { state: string; at?: string | null; hint?: string } {
  switch (e.message_state) {
    case 'delivered':
      return { state: 'delivered' };
    case 'failed':
      return { state: 'failed', hint: 'retries are exhausted; a replay can send it again' };
    case 'dropped':
      return { state: 'dropped', hint: 'withdrawn (unsubscribed, revoked, deleted, suspended) or expired' };
    case 'pending':
      if (e.outbox_state === 'handed') return { state: 'in_flight' };
      if (e.outbox_state === 'released') return { state: 'queued' };
      if (e.outbox_state === 'held' || e.webhook_valid === 0)
        return { state: 'held', hint: 'the webhook is invalid; it is sent once a CRC passes (PUT /2/webhooks/:id)' };
      return { state: 'retry_scheduled', at: iso(e.next_attempt_at) };
    default:
      return { state: 'unknown', hint: 'the payload is past retention' };
  }
}

/** One ledger entry as the API shows it (the developer's log and the operator's ledger alike). */
const ledgerEntryView = (e: LedgerEntry) => ({
  delivery_id: e.delivery_id,
  event_id: e.event_id,
  event_type: e.event_type,
  kind: e.kind,
  webhook_id: e.webhook_id,
  for_user_id: e.for_user_id || null,
  attempt: e.attempt,
  attempted_at: iso(e.at),
  destination: e.url,
  started_at: iso(e.started_at),
  ingested_at: iso(e.ingested_at),
  status_code: e.status_code,
  error: e.error,
  latency_ms: e.latency_ms,
  outcome: e.outcome,
  ...(e.outcome === 'unknown' ? { outcome_hint: 'no outcome was reported for this attempt: the receiver may have received it' } : {}),
  ...(e.replay_job_id ? { replay_job_id: e.replay_job_id } : {}),
  ...(e.xaa_subscription_id ? { subscription_id: e.xaa_subscription_id } : {}),
  next: nextStep(e),
});

const ledgerPageMeta = (count: number, nextBefore: number | null) => ({
  result_count: count,
  ...(nextBefore !== null ? { next_token: String(nextBefore) } : {}),
});

/** One page of an app's ledger, read from its object, in the API's shape. */
export async function readLedgerPage(
  env: Env,
  appId: string,
  filter: Omit<LedgerFilter, 'before' | 'limit'>,
  page: { max_results: number; pagination_token?: string },
) {
  const { entries, nextBefore } = await appObject(env, appId).ledger(appId, {
    ...filter,
    before: page.pagination_token ? Number(page.pagination_token) : undefined,
    limit: page.max_results,
  });
  return { data: entries.map(ledgerEntryView), meta: ledgerPageMeta(entries.length, nextBefore) };
}
