import type { TimedActivity } from '../domain/activities';
import { type DeliveryScope, entitlementAt } from '../domain/entitlement';
import { filterMatches, type XaaFilter, xaaEventsOf, xaaRule } from '../domain/xaa-events';
import { renderXaaEnvelope, renderXaaPayload, renderXaaRevoke } from '../domain/xaa-payloads';
import type { Release } from './lanes';
import { liveLane } from './storage/outbox-store';
import type { XaaMirrorRow } from './storage/xaa-mirror-store';
import type { TenantDelivery } from './tenant-delivery';

export const filterOf = (row: XaaMirrorRow): XaaFilter => ({
  user_id: row.user_id,
  ...(row.direction ? { direction: row.direction } : {}),
  ...(row.keyword !== null ? { keyword: row.keyword } : {}),
});

/** The `webhook-id` of an XAA webhook delivery: one per (event, webhook, user, subscription), the webhook among its parts. */
export const xaaDeliveryIdFor = (eventId: string, webhookId: string, userId: string, subscriptionId: string) =>
  `msg_${eventId}_${webhookId}_${userId}_${subscriptionId}`;

/**
 * The X Activity API's share of the app's delivery, inside its object (docs/xaa.md): at ingest, the
 * XAA events of an activity become, for each live subscription whose filter takes them and that the
 * entitlement rule allows, one line on the app's stream and, if the subscription targets a webhook,
 * one message in that webhook's lane for the filter user, the same lane Account Activity uses, so
 * both kinds reach a shared webhook in ingest order. From there on a webhook message is like any
 * other: released, claimed, handed out (written to the ledger first), retried, replayed.
 */
export class XaaDelivery {
  constructor(private readonly delivery: TenantDelivery) {}

  /** One new event (already recorded once for this object); returns the webhook messages it appended. */
  ingestEvent(eventId: string, activity: TimedActivity, now: number, out: Release[]): number {
    const { mirror, streams } = this.delivery.store;
    const view = mirror.view();
    let messages = 0;
    let streamBytes = 0;
    for (const occurrence of xaaEventsOf(activity)) {
      const subscriptions = mirror.xaa
        .liveFor(occurrence.userId, occurrence.eventType)
        .filter((s) => filterMatches(filterOf(s), occurrence));
      if (subscriptions.length === 0) continue;
      const requiredScope = xaaRule(occurrence.eventType).scope;
      const rendered = renderXaaPayload(activity, occurrence.eventType);
      for (const sub of subscriptions) {
        const scope: DeliveryScope = {
          kind: 'stream',
          webhookId: '',
          userId: occurrence.userId,
          requiredScope,
          ingestedAt: now,
          xaaSubscriptionId: sub.id,
        };
        // Not entitled on the stream means not entitled at all (a private event without the scope).
        if (entitlementAt(view, scope, now).kind === 'withdrawn') continue;
        const payload = renderXaaEnvelope(eventId, occurrence.eventType, rendered, { id: sub.id, filter: filterOf(sub), tag: sub.tag });
        const line = streams.append({
          deliveryId: `stream_${eventId}_${sub.id}`,
          kind: 'stream',
          eventId,
          eventType: occurrence.eventType,
          requiredScope,
          userId: occurrence.userId,
          xaaSubscriptionId: sub.id,
          payload,
          createdAt: now,
        });
        streamBytes += line?.bytes ?? 0;
        const webhookId = sub.webhook_id;
        if (webhookId === null) continue;
        const onWebhook = entitlementAt(view, { ...scope, kind: 'event', webhookId }, now).kind;
        if (onWebhook === 'withdrawn') continue;
        const message = {
          deliveryId: xaaDeliveryIdFor(eventId, webhookId, occurrence.userId, sub.id),
          kind: 'event',
          eventId,
          eventType: occurrence.eventType,
          requiredScope,
          webhookId,
          userId: occurrence.userId,
          payload,
          createdAt: now,
          xaaSubscriptionId: sub.id,
        } as const;
        this.delivery.lanes.appendLive(message, onWebhook === 'send', now, out);
        messages++;
      }
    }
    if (streamBytes > 0) this.delivery.streams.appended(streamBytes);
    return messages;
  }

  /**
   * `oauth.revoke` for a user's revoke, to every XAA target the app uses: each valid webhook a live
   * XAA subscription delivers to (in its app-level lane, like AAA's `user_event`) and the stream.
   * Called before the revoke ends the user's private subscriptions, so their targets count too.
   */
  revokeNotices(appId: string, userId: string, eventId: string, now: number, out: Release[]): void {
    const { mirror, outbox, streams } = this.delivery.store;
    const targets = mirror.xaa.liveTargets();
    if (!targets.any) return;
    const revoke = { appId, userId, at: now };
    for (const webhookId of targets.webhooks) {
      if (!this.delivery.store.webhooks.live().some((w) => w.id === webhookId && w.valid)) continue;
      const lane = liveLane(webhookId, '');
      outbox.append({
        deliveryId: `msg_${eventId}_${webhookId}_${userId}_oauth`,
        kind: 'revoke',
        eventId,
        eventType: 'oauth.revoke',
        requiredScope: null,
        webhookId,
        userId: '',
        payload: renderXaaRevoke(eventId, webhookId, revoke),
        createdAt: now,
        lane,
      });
      this.delivery.lanes.releaseLane(lane, now, out);
    }
    const line = streams.append({
      deliveryId: `stream_${eventId}_oauth_${userId}`,
      kind: 'stream_notice',
      eventId,
      eventType: 'oauth.revoke',
      requiredScope: null,
      userId: '',
      xaaSubscriptionId: null,
      payload: renderXaaRevoke(eventId, 'stream', revoke),
      createdAt: now,
    });
    if (line) this.delivery.streams.appended(line.bytes);
  }
}
