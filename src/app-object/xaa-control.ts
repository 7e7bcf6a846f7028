import type { Withdrawal } from '../domain/delivery-protocol';
import { xaaScopeOf } from '../domain/xaa-events';
import type { ControlPlane } from './control-plane';
import type { AddRefusal } from './storage/mirror-store';
import type { XaaSubscriptionRecord } from './storage/xaa-mirror-store';
import type { TenantDelivery } from './tenant-delivery';

/**
 * The object's side of X Activity API subscription changes (docs/xaa.md), under the protocol of
 * docs/delivery.md: what widens (a new subscription, a new target webhook, a new tag) arrives after
 * D1 has it, and is refused if this object already saw its end (or its webhook's, or, for a private
 * event, its authorization's); what narrows (a delete, a target taken away) happens here first, drops
 * every undelivered message in its scope at once, and answers how long until the last hand-out in
 * scope can no longer start. The stream needs no fence: a line is checked when it is written.
 */
export class XaaControl {
  constructor(
    private readonly delivery: TenantDelivery,
    private readonly control: ControlPlane,
  ) {}

  private get mirror() {
    return this.delivery.store.mirror;
  }

  /** D1's version of a subscription (created, or its tag or target changed). */
  put(appId: string, record: XaaSubscriptionRecord): AddRefusal | null {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const known = this.mirror.xaa.get(record.id);
    if (known?.ended_at != null) return 'ended';
    if (record.webhookId !== null && known?.webhook_id !== record.webhookId) {
      const webhook = this.delivery.store.webhooks.get(record.webhookId);
      if (!webhook || webhook.deleted_at !== null) {
        // D1 has it delivering to a webhook that is gone: it ends, as the webhook's delete would have
        // ended it had it reached it first (D1 ends it too, on this answer).
        this.mirror.xaa.end([{ id: record.id, userId: record.userId }], now);
        return 'webhook_gone';
      }
    }
    // A private event's subscription starts only under the live authorization it was created under.
    // A placeholder (a move's narrowing that overtook the creation) has not started either: a revoke
    // that reached this object meanwhile could not tell it was private, so the check is made now.
    const starting = !known || known.event_type === '';
    if (starting && xaaScopeOf(record.eventType) !== null) {
      const live = this.mirror.liveAuthorization(record.userId);
      if (!live || live.id !== record.authorizationId) {
        // It ends here as D1 ends it on this answer: an unseen id is tombstoned, so a later version
        // (a move's put, arriving after the grant this put overtook) cannot start it.
        this.mirror.xaa.end([{ id: record.id, userId: record.userId }], now);
        return 'authorization_not_live';
      }
    }
    return this.mirror.xaa.put(record, Math.max(record.at, now));
  }

  /** Deletes subscriptions: their undelivered webhook messages are dropped, their stream lines no longer written. */
  async end(appId: string, subscriptions: { id: string; userId: string }[]): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const ids = subscriptions.map((s) => s.id);
    this.mirror.xaa.end(subscriptions, now);
    const messages = this.delivery.store.outboxViews.outboxWhere({ xaaSubscriptionIds: ids });
    return this.control.withdraw({ xaaSubscriptionIds: ids }, messages, 'XAA subscription deleted', now, {
      authorizations: [],
      subscriptions: [],
      xaaSubscriptions: this.mirror.xaa.endedIn({ ids }),
    });
  }

  /**
   * Before a new target is recorded: the subscription (as of D1 version `asOf`) delivers to the stream
   * only, and its webhook's undelivered messages are dropped.
   */
  async untarget(appId: string, id: string, userId: string, asOf: number): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    this.mirror.xaa.untarget(id, userId, asOf, now);
    const withdrawn = this.delivery.store.outboxViews
      .outboxWhere({ xaaSubscriptionIds: [id] })
      .filter((m) => this.delivery.lanes.entitlement(m, now) === 'withdrawn');
    return this.control.withdraw({ xaaSubscriptionIds: [id] }, withdrawn, 'XAA subscription moved to another webhook', now);
  }
}
