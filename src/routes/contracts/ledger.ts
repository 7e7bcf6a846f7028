import { z } from 'zod';
import { isoTime, numericId } from './common';

/** One entry of an app's ledger as the API shows it (src/http/ledger-view.ts). */
export const ledgerEntry = z
  .object({
    delivery_id: z.string().meta({ description: 'The `webhook-id` header of the request' }),
    event_id: z.string(),
    event_type: z.string().meta({ description: 'The activity type, `user_event` or `replay_job_status`' }),
    kind: z.string().meta({ description: '`event`, `replay`, `revoke` or `replay_status`' }),
    webhook_id: numericId,
    for_user_id: z.string().nullable().meta({ description: 'null for app-level notices' }),
    attempt: z.number().int(),
    attempted_at: isoTime.nullable().meta({ description: 'When the attempt was handed out, or the drop happened' }),
    destination: z.string().nullable().meta({ description: 'The exact URL the attempt was handed out for; null for drops' }),
    started_at: isoTime.nullable().meta({ description: 'When its POST really started; null if not reported' }),
    ingested_at: isoTime.nullable(),
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    latency_ms: z.number().nullable(),
    outcome: z.string().meta({ description: '`delivered`, `retrying`, `failed`, `gone`, `dropped`, `not_sent` or `unknown`' }),
    outcome_hint: z.string().optional(),
    replay_job_id: z.string().optional(),
    next: z
      .object({ state: z.string(), at: isoTime.nullable().optional(), hint: z.string().optional() })
      .meta({ description: 'What happens next to this delivery' }),
  })
  .meta({ id: 'LedgerEntry' });

export const ledgerPageResponse = z
  .object({
    data: z.array(ledgerEntry),
    meta: z.object({ result_count: z.number().int(), next_token: z.string().optional() }),
  })
  .meta({ id: 'LedgerPage', description: 'Newest first; pass `meta.next_token` as `pagination_token` for the next page' });
