import type { Withdrawal } from '../domain/delivery-protocol';
import { newId } from '../domain/ids';
import { renderRevoke } from '../domain/payloads';
import type { Release } from './lanes';
import type { AddRefusal, EndedRows } from './storage/mirror-store';
import type { AppStatus } from './storage/tenant-store';

const NOTHING_ENDED: EndedRows = { authorizations: [], subscriptions: [], xaaSubscriptions: [] };

import { liveLane, type ScopedMessage } from './storage/outbox-store';
import { deliveryIdFor, type TenantDelivery } from './tenant-delivery';

/**
 * The object's side of control-plane changes (docs/delivery.md, "Withdrawal"). Each change is applied
 * to the mirror first, in one synchronous step, so nothing is handed out under the old state after it.
 * A withdrawal (suspension, webhook delete, revoke, unsubscribe, narrower re-grant) then drops every
 * undelivered message in its scope, including ones already handed out, and answers how long until
 * the last of those hand-outs' start deadlines: the Worker waits that long (plus a margin for clock
 * error) before it reports the withdrawal done, so when it returns, no request in its scope starts.
 */
export class ControlPlane {
  constructor(private readonly delivery: TenantDelivery) {}

  private get store() {
    return this.delivery.store;
  }

  /**
   * Drops `messages`, releases what their lanes still hold, and measures the fence: the last start
   * deadline of a hand-out in `scope` whose outcome is unknown. The fence is measured before this
   * call yields, and from the ledger, so a repeated withdrawal (its first answer was lost) still
   * waits for what the first one dropped. (XAA's withdrawals use it too: xaa-control.ts.)
   */
  async withdraw(
    scope: { webhookId?: string; userId?: string; xaaSubscriptionIds?: string[] },
    messages: ScopedMessage[],
    reason: string,
    now: number,
    ended: EndedRows = NOTHING_ENDED,
    extra: Release[] = [],
  ): Promise<Withdrawal> {
    const out: Release[] = [...extra];
    this.delivery.lanes.dropAndAdvance(messages, reason, now, out);
    const fenceUntil = this.store.ledger.openHandOutsUntil(scope, now, this.delivery.settings.handOutStartWindowMs);
    await this.delivery.send(out);
    return { effectiveAt: now, fenceWaitMs: Math.max(0, fenceUntil - now), ended };
  }

  /** Suspension drops everything undelivered at once; nothing is released while not active. A newer status wins. */
  async setAppStatus(appId: string, status: AppStatus, at: number): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const applied = this.store.tenant.setStatus(status, at);
    if (!applied || status === 'active') return { effectiveAt: now, fenceWaitMs: 0, ended: NOTHING_ENDED };
    this.delivery.streams.closeAll('AppNotActive', `the app is ${status}`);
    return this.withdraw({}, this.store.outboxViews.outboxWhere({}), `app ${status}`, now);
  }

  /** Invalid: its lanes are held (not a withdrawal). Valid again: what was held is released, in order. */
  async setWebhookValid(appId: string, webhookId: string, valid: boolean, at: number): Promise<void> {
    this.delivery.tenantFor(appId);
    const applied = this.store.webhooks.setWebhookValid(webhookId, valid, at);
    if (!valid || !applied) return;
    const now = this.delivery.ports.now();
    const out: Release[] = [];
    for (const row of this.store.outbox.unhold(webhookId)) this.delivery.lanes.releaseLane(row.lane, now, out);
    await this.delivery.send(out);
  }

  async deleteWebhook(appId: string, webhookId: string): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const ended = this.store.mirror.deleteWebhook(webhookId, now);
    return this.withdraw({ webhookId }, this.store.outboxViews.outboxWhere({ webhookId }), 'webhook deleted', now, ended);
  }

  /** Before a re-grant: the user's live authorization loses the scopes the new grant does not hold. */
  async restrictAuthorization(appId: string, userId: string, scope: string, previousId?: string): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    this.store.mirror.restrictAuthorization(userId, scope, previousId, now);
    const withdrawn = this.store.outboxViews.outboxWhere({ userId }).filter((m) => this.delivery.lanes.entitlement(m, now) === 'withdrawn');
    return this.withdraw({ userId }, withdrawn, 'scope withdrawn', now);
  }

  /**
   * A grant (D1 id) after D1 recorded it, with the D1 grants it ended (`supersedes`); refused if this
   * object already saw that grant end.
   */
  async grantAuthorization(
    appId: string,
    grant: { authorizationId: string; userId: string; scope: string; at: number; supersedes?: string[] },
  ) {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const refused = this.store.mirror.grantAuthorization(
      grant.authorizationId,
      grant.userId,
      grant.scope,
      Math.max(grant.at, now),
      grant.supersedes,
    );
    // A grant that is narrower than what the object held withdraws the difference at once too.
    const withdrawn = this.store.outboxViews
      .outboxWhere({ userId: grant.userId })
      .filter((m) => this.delivery.lanes.entitlement(m, now) === 'withdrawn');
    return { refused, ...(await this.withdraw({ userId: grant.userId }, withdrawn, 'scope withdrawn', now)) };
  }

  /**
   * Ends the user's authorization and subscriptions here (XAA's private ones too), drops the user's
   * undelivered events, and tells each valid webhook of the app with a `user_event` revoke, and each
   * XAA target with `oauth.revoke`.
   */
  async revokeAuthorization(appId: string, userId: string, authorizationId?: string): Promise<Withdrawal> {
    const tenant = this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const notices: Release[] = [];
    const eventId = newId(now);
    // Before the revoke ends them: the targets of the user's own subscriptions are targets too.
    if (tenant.status === 'active' && this.store.mirror.activeScope(userId) !== null) {
      this.delivery.xaa.revokeNotices(appId, userId, eventId, now, notices);
    }
    const ended = this.store.mirror.revokeAuthorization(userId, now, authorizationId);
    if (tenant.status === 'active') {
      const payload = renderRevoke(appId, userId, now);
      for (const webhook of this.store.webhooks.live().filter((w) => w.valid)) {
        const lane = liveLane(webhook.id, '');
        this.store.outbox.append({
          deliveryId: deliveryIdFor(eventId, webhook.id, userId),
          kind: 'revoke',
          eventId,
          eventType: 'user_event',
          requiredScope: null,
          webhookId: webhook.id,
          userId: '',
          payload,
          createdAt: now,
          lane,
        });
        this.delivery.lanes.releaseLane(lane, now, notices);
      }
    }
    return this.withdraw({ userId }, this.store.outboxViews.outboxWhere({ userId }), 'authorization revoked', now, ended, notices);
  }

  /** Starts a subscription (after D1 has it); refused if a withdrawal here already ended it or its grant. */
  addSubscription(
    appId: string,
    sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number },
  ): AddRefusal | null {
    this.delivery.tenantFor(appId);
    return this.store.mirror.addSubscription({ ...sub, at: Math.max(sub.at, this.delivery.ports.now()) });
  }

  async endSubscription(appId: string, webhookId: string, userId: string, subscriptionId?: string): Promise<Withdrawal> {
    this.delivery.tenantFor(appId);
    const now = this.delivery.ports.now();
    const ended = this.store.mirror.endSubscription(webhookId, userId, now, subscriptionId);
    return this.withdraw({ webhookId, userId }, this.store.outboxViews.outboxWhere({ webhookId, userId }), 'unsubscribed', now, ended);
  }
}
