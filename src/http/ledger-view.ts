import type { LedgerEntry, LedgerFilter } from '../app-object/storage/ledger-views';
import { USER_AGENT } from '../config';
import { AppDelivery } from '../delivery/app-objects';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * What happens next to the delivery an attempt belongs to, so a developer can tell why an event
 * has not arrived (yet).
 */
export function nextStep(e: LedgerEntry): { state: string; at?: string | null; hint?: string } {
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
  const { entries, nextBefore } = await (await AppDelivery.load(env, appId)).ledger({
    ...filter,
    before: page.pagination_token ? Number(page.pagination_token) : undefined,
    limit: page.max_results,
  });
  return { data: entries.map(ledgerEntryView), meta: ledgerPageMeta(entries.length, nextBefore) };
}

/** One request header of an attempt as the portal shows it: its value, or why the value is not shown. */
export interface ShownHeader {
  name: string;
  value: string | null;
  note?: string;
}

/**
 * The headers an attempt's request carried (src/app-object/signer.ts), without secrets: signature
 * values are never kept, so they are named, not shown. `webhook-timestamp` is the second the request
 * was signed, which is the second it was handed out give or take the signing itself.
 */
export function attemptHeaders(e: LedgerEntry): ShownHeader[] {
  if (e.url === null) return []; // a drop: no request was made
  return [
    { name: 'content-type', value: 'application/json' },
    { name: 'user-agent', value: USER_AGENT },
    { name: 'x-twitter-webhooks-signature', value: null, note: 'HMAC-SHA256 of the body with your consumer secret' },
    { name: 'webhook-id', value: e.delivery_id },
    { name: 'webhook-timestamp', value: String(Math.floor(e.at / 1000)), note: 'when it was signed' },
    {
      name: 'webhook-signature',
      value: null,
      note: "v1 signature with the webhook's signing secret (and the previous one during a rotation)",
    },
    ...(e.replay_job_id ? [{ name: 'x-replay-job-id', value: e.replay_job_id }] : []),
  ];
}
