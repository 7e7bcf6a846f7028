import type { WebhookHealth } from './health';
import { webhookHealth } from './health';
import type { AppStore } from './storage/app-store';
import type { LedgerFilter } from './storage/ledger-views';
import type { TenantDelivery } from './tenant-delivery';

type IdRange = { after: string; upTo: string | null };

/**
 * The questions an app's object answers without changing anything: what its mirror holds (for the
 * drift check, src/delivery/reconcile.ts) and what its ledger says. Like AppObjectApi, every call
 * names the app it is meant for, and a call for any other app is refused.
 */
export class AppObjectViews {
  private readonly store: AppStore;

  constructor(private readonly delivery: TenantDelivery) {
    this.store = delivery.store;
  }

  // ---- the drift check ----------------------------------------------------------------------------

  async mirrorSummary(appId: string) {
    const tenant = this.delivery.tenantFor(appId);
    return {
      status: tenant.status,
      statusChangedAt: tenant.statusChangedAt,
      webhooks: this.store.webhooks
        .all()
        .map((w) => ({ id: w.id, url: w.url, valid: w.valid === 1, validChangedAt: w.valid_changed_at, deleted: w.deleted_at !== null })),
      stagedConsumerSecret: this.store.tenant.stagedConsumerSecret() !== null,
    };
  }

  async mirrorRows(appId: string, table: 'authorizations' | 'subscriptions', ids: string[], range: IdRange) {
    this.delivery.tenantFor(appId);
    return this.store.mirrorDrift.rowsFor(table, ids, range);
  }

  async xaaMirrorRows(appId: string, ids: string[], range: IdRange) {
    this.delivery.tenantFor(appId);
    return this.store.mirror.xaa.rowsFor(ids, range);
  }

  // ---- the ledger ---------------------------------------------------------------------------------

  async ledger(appId: string, filter: LedgerFilter) {
    this.delivery.tenantFor(appId);
    return this.store.ledgerViews.entries(filter);
  }

  /** One ledger entry of this app by its id (the portal's attempt detail), or null. */
  async ledgerEntry(appId: string, id: number) {
    this.delivery.tenantFor(appId);
    return this.store.ledgerViews.entry(id) ?? null;
  }

  /** Every live webhook's validity, failing streak and backlog. */
  async webhookHealth(appId: string): Promise<WebhookHealth[]> {
    this.delivery.tenantFor(appId);
    return webhookHealth(this.store);
  }

  async userSummary(appId: string, userId: string) {
    this.delivery.tenantFor(appId);
    return this.store.ledgerViews.userSummary(userId);
  }

  async sentIn(appId: string, from: number, to: number, afterId: number, limit: number) {
    this.delivery.tenantFor(appId);
    return this.store.ledgerViews.sentIn(from, to, afterId, limit);
  }
}
