import type { TimedActivity } from '../domain/activities';
import { audienceOf, isAaa, REQUIRED_SCOPE } from '../domain/audience';
import { entitlementAt } from '../domain/entitlement';
import { renderPayload } from '../domain/payloads';
import type { Release } from './lanes';
import { deliveryIdFor, type TenantDelivery } from './tenant-delivery';

/**
 * Account Activity's share of ingest, inside the app's object (docs/events.md): one message per
 * (webhook, audience user) that this object's own mirror entitles, in the lane of that webhook and
 * user. Returns how many it appended. Activity types only the X Activity API has give none.
 */
export function ingestAaaEvent(delivery: TenantDelivery, eventId: string, activity: TimedActivity, now: number, out: Release[]): number {
  if (!isAaa(activity)) return 0;
  const { mirror } = delivery.store;
  const view = mirror.view();
  let messages = 0;
  const requiredScope = REQUIRED_SCOPE[activity.type];
  for (const userId of audienceOf(activity)) {
    const entitled = mirror.liveSubscriptionsOf(userId).flatMap(({ webhookId }) => {
      const kind = entitlementAt(view, { kind: 'event', webhookId, userId, requiredScope, ingestedAt: now }, now).kind;
      return kind === 'withdrawn' ? [] : [{ webhookId, sendable: kind === 'send' }];
    });
    if (entitled.length === 0) continue;
    const payload = renderPayload(activity, userId);
    for (const { webhookId, sendable } of entitled) {
      const message = {
        deliveryId: deliveryIdFor(eventId, webhookId, userId),
        kind: 'event',
        eventId,
        eventType: activity.type,
        requiredScope,
        webhookId,
        userId,
        payload,
        createdAt: now,
      } as const;
      delivery.lanes.appendLive(message, sendable, now, out);
      messages++;
    }
  }
  return messages;
}
