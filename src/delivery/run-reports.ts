import { REPORT_LINGER_MS } from '../domain/consumer-pacing';
import type { AttemptReport, DeliveryPath, HandOut } from '../domain/delivery-protocol';
import { appIdOf } from '../domain/shards';
import type { RunPorts } from './delivery-run-ports';

/** What the report batching asks of the run it serves (delivery-run.ts). */
export interface ReportHost {
  /** Nothing more of the app is about to finish, the run is short of work, or its budget is spent. */
  reportNow(appId: string): boolean;
  /** How many next hand-outs the report may bring back for the app. */
  chainCapacity(appId: string): number;
  /** `n` more hand-outs asked of the app (negative: answered). */
  ask(appId: string, n: number): void;
  slowWebhooks(appId: string): string[];
  /** Hand-outs a report brought back. */
  accept(appId: string, next: HandOut[]): void;
  /** A report call ended: the run may start or claim more. */
  settled(): void;
}

/**
 * A consumer run's reports: finished attempts are reported per app, one call per app at a time.
 * An attempt lingers up to REPORT_LINGER_MS so others of its app finishing meanwhile share the call,
 * unless the host says to report now; a report brings back the app's next hand-outs. 410 answers
 * are collected, and the control plane is told once, at the end of the run.
 */
export class RunReports {
  private readonly finished = new Map<string, AttemptReport[]>();
  private readonly lingering = new Map<string, () => void>();
  private readonly reporting = new Set<string>();
  private readonly gone = new Map<string, { ids: Set<string>; at: number }>();

  constructor(
    private readonly ports: RunPorts,
    private readonly path: DeliveryPath,
    private readonly host: ReportHost,
  ) {}

  add(appId: string, report: AttemptReport): void {
    const list = this.finished.get(appId) ?? [];
    list.push(report);
    this.finished.set(appId, list);
    this.flushSoon(appId);
  }

  /** Reports every app's finished attempts now (the run is short of work). */
  flushAll(): void {
    for (const appId of [...this.finished.keys()]) this.flush(appId);
  }

  /** Nothing finished waits to be reported, and no report call is out. */
  idle(): boolean {
    return this.reporting.size === 0 && this.finished.size === 0;
  }

  /** Tells the control plane about webhooks that answered 410, as of the moment their objects saw it. */
  async markGone(): Promise<void> {
    await Promise.all(
      [...this.gone].map(([appId, { ids, at }]) =>
        this.ports
          .markGone(appIdOf(appId), [...ids], at)
          .catch((err) => this.ports.log(`app ${appId}: marking 410 webhooks invalid failed`, err)),
      ),
    );
  }

  private flushSoon(appId: string): void {
    if (this.reporting.has(appId) || this.lingering.has(appId) || !this.finished.get(appId)?.length) return;
    if (this.host.reportNow(appId)) {
      this.flush(appId);
      return;
    }
    this.lingering.set(
      appId,
      this.ports.after(REPORT_LINGER_MS, () => {
        this.lingering.delete(appId);
        this.flush(appId);
        this.host.settled();
      }),
    );
  }

  private flush(appId: string): void {
    const batch = this.finished.get(appId);
    if (this.reporting.has(appId) || !batch || batch.length === 0) return;
    this.lingering.get(appId)?.();
    this.lingering.delete(appId);
    this.finished.delete(appId);
    this.reporting.add(appId);
    const capacity = this.host.chainCapacity(appId);
    this.host.ask(appId, capacity);
    this.ports
      .object(appId)
      .report(appIdOf(appId), batch, { chain: capacity > 0, capacity, slowWebhooks: this.host.slowWebhooks(appId), pull: this.path })
      .then(
        ({ goneWebhooks, at, next }) => {
          if (goneWebhooks.length > 0) {
            const gone = this.gone.get(appId) ?? { ids: new Set<string>(), at };
            for (const id of goneWebhooks) gone.ids.add(id);
            gone.at = Math.max(gone.at, at);
            this.gone.set(appId, gone);
          }
          this.host.accept(appId, next);
        },
        (err) => {
          // The attempts stay on the ledger as outcome unknown; the object's lease takes it from there.
          this.ports.log(`app ${appId}: report of ${batch.length} attempts failed`, err);
        },
      )
      .finally(() => {
        this.host.ask(appId, -capacity);
        this.reporting.delete(appId);
        this.flushSoon(appId);
        this.host.settled();
      });
  }
}
