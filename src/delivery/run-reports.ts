import { REPORT_LINGER_MS } from '../domain/consumer-pacing';
import type { AttemptReport, DeliveryPath, HandOut } from '../domain/delivery-protocol';
import { appIdOf } from '../domain/shards';
import type { RunPorts } from './delivery-run-ports';

/** What the report batching asks of the run it serves (delivery-run.ts). */
export interface ReportHost {
  /** Nothing more of the app is about to finish, the run is short of work, or its budget is spent. */
  reportNow(objectKey: string): boolean;
  /** How many next hand-outs the report may bring back for the app. */
  chainCapacity(objectKey: string): number;
  /** `n` more hand-outs asked of the app (negative: answered). */
  ask(objectKey: string, n: number): void;
  slowWebhooks(objectKey: string): string[];
  /** Hand-outs a report brought back. */
  accept(objectKey: string, next: HandOut[]): void;
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

  add(objectKey: string, report: AttemptReport): void {
    const list = this.finished.get(objectKey) ?? [];
    list.push(report);
    this.finished.set(objectKey, list);
    this.flushSoon(objectKey);
  }

  /** Reports every app's finished attempts now (the run is short of work). */
  flushAll(): void {
    for (const objectKey of [...this.finished.keys()]) this.flush(objectKey);
  }

  /** Nothing finished waits to be reported, and no report call is out. */
  idle(): boolean {
    return this.reporting.size === 0 && this.finished.size === 0;
  }

  /** Tells the control plane about webhooks that answered 410, as of the moment their objects saw it. */
  async markGone(): Promise<void> {
    await Promise.all(
      [...this.gone].map(([objectKey, { ids, at }]) =>
        this.ports
          .markGone(appIdOf(objectKey), [...ids], at)
          .catch((err) => this.ports.log(`app ${objectKey}: marking 410 webhooks invalid failed`, err)),
      ),
    );
  }

  private flushSoon(objectKey: string): void {
    if (this.reporting.has(objectKey) || this.lingering.has(objectKey) || !this.finished.get(objectKey)?.length) return;
    if (this.host.reportNow(objectKey)) {
      this.flush(objectKey);
      return;
    }
    this.lingering.set(
      objectKey,
      this.ports.after(REPORT_LINGER_MS, () => {
        this.lingering.delete(objectKey);
        this.flush(objectKey);
        this.host.settled();
      }),
    );
  }

  private flush(objectKey: string): void {
    const batch = this.finished.get(objectKey);
    if (this.reporting.has(objectKey) || !batch || batch.length === 0) return;
    this.lingering.get(objectKey)?.();
    this.lingering.delete(objectKey);
    this.finished.delete(objectKey);
    this.reporting.add(objectKey);
    const capacity = this.host.chainCapacity(objectKey);
    this.host.ask(objectKey, capacity);
    this.ports
      .object(objectKey)
      .report(appIdOf(objectKey), batch, {
        chain: capacity > 0,
        capacity,
        slowWebhooks: this.host.slowWebhooks(objectKey),
        pull: this.path,
      })
      .then(
        ({ goneWebhooks, at, next }) => {
          if (goneWebhooks.length > 0) {
            const gone = this.gone.get(objectKey) ?? { ids: new Set<string>(), at };
            for (const id of goneWebhooks) gone.ids.add(id);
            gone.at = Math.max(gone.at, at);
            this.gone.set(objectKey, gone);
          }
          this.host.accept(objectKey, next);
        },
        (err) => {
          // The attempts stay on the ledger as outcome unknown; the object's lease takes it from there.
          this.ports.log(`app ${objectKey}: report of ${batch.length} attempts failed`, err);
        },
      )
      .finally(() => {
        this.host.ask(objectKey, -capacity);
        this.reporting.delete(objectKey);
        this.flushSoon(objectKey);
        this.host.settled();
      });
  }
}
