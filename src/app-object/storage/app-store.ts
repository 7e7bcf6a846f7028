import { LedgerQueries } from './ledger-store';
import { TenantState } from './mirror-store';
import { Outbox } from './outbox-store';
import { ReplayStore } from './replay-store';

/**
 * The app object's storage, behind one boundary: every SQL statement the object runs is in
 * src/app-object/storage/. The tables live in the object's own SQLite database, so nothing here can
 * see another tenant's rows.
 */
export class AppStore {
  readonly mirror: TenantState;
  readonly outbox: Outbox;
  readonly ledger: LedgerQueries;
  readonly replays: ReplayStore;

  constructor(sql: SqlStorage) {
    this.mirror = new TenantState(sql);
    this.outbox = new Outbox(sql);
    this.ledger = new LedgerQueries(sql);
    this.replays = new ReplayStore(sql);
  }

  /** Creates the tables (idempotent); run once per object start, before any call is served. */
  migrate(): void {
    this.mirror.migrate();
    this.outbox.migrate();
  }
}
