import { z } from 'zod';
import { database } from '../db/client';
import { getOwnWebhook } from '../db/webhooks';
import { appObject } from '../delivery/app-objects';
import { newId } from '../domain/ids';
import { conflict, type FieldError, invalid, notFound } from '../errors';

/**
 * Replay (X's two endpoints share this). Dates are `yyyymmddhhmm` in UTC; the window must lie within
 * the payload retention (5 days), `from` before `to`, and `to` not in the future.
 */
const replayDate = z.string().regex(/^\d{12}$/, 'must be yyyymmddhhmm (UTC)');

function parseReplayDate(value: string): number | null {
  const [y, mo, d, h, mi] = [value.slice(0, 4), value.slice(4, 6), value.slice(6, 8), value.slice(8, 10), value.slice(10, 12)].map(Number);
  const ms = Date.UTC(y, mo - 1, d, h, mi);
  const back = new Date(ms);
  const exact =
    back.getUTCFullYear() === y &&
    back.getUTCMonth() === mo - 1 &&
    back.getUTCDate() === d &&
    back.getUTCHours() === h &&
    back.getUTCMinutes() === mi;
  return exact ? ms : null;
}

/**
 * Starts a replay of one of the app's webhooks over the requested window (checked against `now` and
 * the payload retention). `reason` is X's failure name for a bad window, which differs by endpoint.
 */
export async function startReplayJob(
  env: Env,
  request: { appId: string; webhookId: string; dates: { from_date: string; to_date: string }; now: number; retentionMs: number },
  reason?: string,
): Promise<{ job_id: string; created_at: string }> {
  const { dates, ...rest } = request;
  const errors: FieldError[] = [];
  const from = parseReplayDate(dates.from_date);
  const to = parseReplayDate(dates.to_date);
  if (from === null) errors.push({ parameter: 'from_date', message: 'is not a real UTC date and time' });
  if (to === null) errors.push({ parameter: 'to_date', message: 'is not a real UTC date and time' });
  if (errors.length) throw invalid(`invalid replay window: ${errors[0].parameter} ${errors[0].message}`, reason, errors);
  return startReplayWindow(env, { ...rest, from: from!, to: to! }, reason);
}

/**
 * Starts a replay over [from, to) in epoch ms: `from` before `to`, `to` not in the future, `from`
 * within the payload retention. `names` are the fields the caller took the window from, for errors.
 */
export async function startReplayWindow(
  env: Env,
  request: { appId: string; webhookId: string; from: number; to: number; now: number; retentionMs: number },
  reason?: string,
  names = { from: 'from_date', to: 'to_date' },
): Promise<{ job_id: string; created_at: string }> {
  const { appId, webhookId, from, to, now, retentionMs: windowMs } = request;
  const errors: FieldError[] = [];
  if (from >= to) errors.push({ parameter: names.from, message: `must be before ${names.to}` });
  if (to > now) errors.push({ parameter: names.to, message: 'must not be in the future' });
  if (from < now - windowMs) {
    errors.push({ parameter: names.from, message: `must be within the last ${Math.round(windowMs / 86_400_000)} days` });
  }
  if (errors.length) throw invalid(`invalid replay window: ${errors[0].parameter} ${errors[0].message}`, reason, errors);

  const webhook = await getOwnWebhook(database(env), appId, webhookId);
  const jobId = newId(now);
  // Shard 0 holds the job; in a sharded app it starts a part in every other shard itself.
  const result = await appObject(env, appId).startReplay(appId, { jobId, webhookId: webhook.id, from, to });
  if (!result.ok) {
    if (result.reason === 'conflict') {
      throw conflict('a replay job for this webhook is still running', 'ReplayConflictError');
    }
    throw notFound(`no webhook ${webhookId} for this app`, 'WebhookIdInvalid');
  }
  return { job_id: jobId, created_at: new Date(now).toISOString() };
}

export const replayBodySchema = z.object({
  webhook_id: z.string({ error: 'webhook_id is required' }).regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits'),
  from_date: replayDate,
  to_date: replayDate,
});

export const replayQuerySchema = z.object({ from_date: replayDate, to_date: replayDate });
