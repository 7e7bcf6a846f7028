import type {
  AttemptReport,
  ClaimResult,
  DeliveryMessage,
  DeliveryPath,
  HandOut,
  ReportOptions,
  ReportResult,
} from '../domain/delivery-protocol';
import type { AttemptResult } from '../domain/retry';

/**
 * What a consumer run (delivery-run.ts) is given: its queue messages and the ports it acts through.
 * The queue consumer wires them to the runtime; the tests and the simulator to their own worlds.
 */
/** What one consumer invocation may do to an app's object (its RPC stub, or the simulator's). */
export interface ObjectApi {
  claim(appId: string, items: DeliveryMessage[], capacity: number, pull?: DeliveryPath): Promise<ClaimResult>;
  report(appId: string, reports: AttemptReport[], options: ReportOptions): Promise<ReportResult>;
  returnUnclaimed(appId: string, items: DeliveryMessage[]): Promise<void>;
}

/** A queue message in the batch, with what the run may do to it. */
export interface RunItem {
  body: DeliveryMessage;
  ack(): void;
  retry(delaySeconds: number): void;
}

export interface RunPorts {
  now(): number;
  /**
   * The object a run's key names (src/domain/shards.ts, objectKeyOf): the run keeps its bookkeeping
   * per object, and names the app itself (appIdOf) in every call.
   */
  object(key: string): ObjectApi;
  /** Starts the POST now and resolves with its result; `onSlow` fires if no answer came within the slow threshold. */
  post(handOut: HandOut, onSlow: () => void): Promise<AttemptResult>;
  markGone(appId: string, webhookIds: string[], at: number): Promise<void>;
  /** Runs `fn` after `ms` unless cancelled with the returned function. */
  after(ms: number, fn: () => void): () => void;
  log(message: string, err?: unknown): void;
}

export interface RunOptions {
  /** Stop claiming and chaining after this long; what is left goes back to its object. */
  budgetMs: number;
  /** The queue this invocation serves: objects add released work of their webhooks on this path. */
  path: DeliveryPath;
}

/** RunPorts.after on the runtime's timers. */
export function afterTimeout(ms: number, fn: () => void): () => void {
  const timer = setTimeout(fn, ms);
  return () => clearTimeout(timer);
}
