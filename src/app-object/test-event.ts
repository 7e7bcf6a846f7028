import { newId } from '../domain/ids';
import { renderTestEvent } from '../domain/payloads';
import type { Release } from './lanes';
import { liveLane } from './storage/outbox-store';
import { deliveryIdFor, type TenantDelivery } from './tenant-delivery';

/** Why a test event was not queued. */
export type TestEventRefusal = 'not_found' | 'not_active' | 'invalid';

export type TestEventResult = { ok: true; eventId: string; deliveryId: string } | { ok: false; reason: TestEventRefusal };

/**
 * A developer's test event to one of the app's webhooks (docs/events.md, "test_event"). It is an
 * app-level message like a revoke notice: it needs only an active app and a live webhook, goes in
 * the webhook's app-level lane, and is signed, handed out, retried and recorded on the ledger like
 * any delivery. It is refused rather than held when the webhook is invalid: a test the developer
 * cannot see arrive until a CRC passes would tell them nothing.
 */
export async function queueTestEvent(delivery: TenantDelivery, appId: string, webhookId: string): Promise<TestEventResult> {
  const tenant = delivery.tenantFor(appId);
  const { store, ports, lanes } = delivery;
  const webhook = store.webhooks.get(webhookId);
  if (!webhook || webhook.deleted_at !== null) return { ok: false, reason: 'not_found' };
  if (tenant.status !== 'active') return { ok: false, reason: 'not_active' };
  if (webhook.valid !== 1) return { ok: false, reason: 'invalid' };
  const now = ports.now();
  const eventId = newId(now);
  const deliveryId = deliveryIdFor(eventId, webhookId, '');
  const lane = liveLane(webhookId, '');
  store.outbox.append({
    deliveryId,
    kind: 'test',
    eventId,
    eventType: 'test_event',
    requiredScope: null,
    webhookId,
    userId: '',
    payload: renderTestEvent({ appId, webhookId, eventId, at: now }),
    createdAt: now,
    lane,
  });
  const out: Release[] = [];
  lanes.releaseLane(lane, now, out);
  await delivery.send(out);
  return { ok: true, eventId, deliveryId };
}
