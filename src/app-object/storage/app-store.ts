import { LedgerStore } from './ledger-store';
import { LedgerViews } from './ledger-views';
import { MirrorDriftStore } from './mirror-drift-store';
import { MirrorStore } from './mirror-store';
import { OutboxScans } from './outbox-scans';
import { Outbox } from './outbox-store';
import { OutboxViews } from './outbox-views';
import { ReplayStore } from './replay-store';
import { RetentionStore } from './retention-store';
import { migrate } from './schema';
import { StreamStore } from './stream-store';
import { ONLY_SHARD, TenantStore } from './tenant-store';
import { WebhookMirrorStore } from './webhook-mirror-store';
import { XaaMirrorStore } from './xaa-mirror-store';

/**
 * The app object's storage, behind one boundary: every SQL statement the object runs is in
 * src/app-object/storage/. The tables live in the object's own SQLite database, so nothing here can
 * see another tenant's rows.
 */
export class AppStore {
  readonly tenant: TenantStore;
  readonly webhooks: WebhookMirrorStore;
  readonly mirror: MirrorStore;
  /** The mirror as the drift check and the reconcile see it. */
  readonly mirrorDrift: MirrorDriftStore;
  readonly outbox: Outbox;
  /** Read-only questions across lanes: the sweep's, the pulls', in flight (outbox-scans.ts). */
  readonly outboxScans: OutboxScans;
  readonly outboxViews: OutboxViews;
  readonly ledger: LedgerStore;
  readonly ledgerViews: LedgerViews;
  readonly replays: ReplayStore;
  readonly retention: RetentionStore;
  readonly streams: StreamStore;

  constructor(private readonly sql: SqlStorage) {
    this.tenant = new TenantStore(sql);
    this.webhooks = new WebhookMirrorStore(sql);
    this.mirror = new MirrorStore(sql, this.tenant, this.webhooks, new XaaMirrorStore(sql));
    this.mirrorDrift = new MirrorDriftStore(sql);
    this.outbox = new Outbox(sql);
    this.outboxScans = new OutboxScans(sql);
    this.outboxViews = new OutboxViews(sql);
    this.ledger = new LedgerStore(sql, () => this.tenant.get()?.placement ?? ONLY_SHARD);
    this.ledgerViews = new LedgerViews(sql);
    this.replays = new ReplayStore(sql);
    this.retention = new RetentionStore(sql);
    this.streams = new StreamStore(sql);
  }

  /** Brings the tables to the current schema (idempotent); run once per object start. */
  migrate(): void {
    migrate(this.sql);
  }
}
