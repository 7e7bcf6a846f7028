import { Hono } from 'hono';
import { z } from 'zod';
import { requireApp } from '../auth/developer';
import { database } from '../db/client';
import { getOwnWebhook } from '../db/webhooks';
import { ledgerPageResponse } from '../http/ledger-view';
import { byApp, rateLimit } from '../http/rate-limit';
import type { HonoEnv } from '../http/types';
import { ledgerPage, pathId, query, timeQuery } from '../http/validation';

const OUTCOMES = ['delivered', 'retrying', 'failed', 'gone', 'dropped', 'unknown', 'not_sent'] as const;

const logQuery = z.object({
  status: z.enum(OUTCOMES, { error: `status must be one of ${OUTCOMES.join(', ')}` }).optional(),
  user_id: z
    .string()
    .regex(/^[0-9]{1,19}$/, 'must be a numeric id of 1-19 digits')
    .optional(),
  since: timeQuery.optional(),
  until: timeQuery.optional(),
  ...ledgerPage,
});

/**
 * The developer's delivery log (an extension to X's API): every attempt to one of this app's
 * webhooks, newest first, with the receiver's answer and what happens next. Read from the app's own
 * ledger, so it can only ever show this app's deliveries.
 */
export const deliveriesRouter = new Hono<HonoEnv>().get(
  '/:webhook_id/deliveries',
  requireApp,
  rateLimit('deliveries', byApp),
  query(logQuery),
  async (c) => {
    const app = c.get('app');
    const webhook = await getOwnWebhook(database(c.env), app.id, pathId(c, 'webhook_id', 'WebhookIdInvalid'));
    const q = c.req.valid('query');
    return ledgerPageResponse(c, app.id, { webhookId: webhook.id, userId: q.user_id, outcome: q.status, from: q.since, to: q.until }, q);
  },
);
