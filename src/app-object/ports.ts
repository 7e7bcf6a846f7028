import type { DeliveryMessage, DeliveryPath } from '../domain/delivery-protocol';
import type { ReplayPartState } from './replay-shards';
import type { Sign } from './signer';
import type { ReplayPartJob } from './storage/replay-store';
import type { StreamSettings } from './stream-hub';

/**
 * Everything the object's delivery logic does besides its own storage, behind a port so the same
 * logic runs in the Durable Object (real clock, queues, alarm, WebCrypto) and in the deterministic
 * simulator (test/sim), which decides when each of these happens and what fails.
 */
export interface ObjectPorts {
  now(): number;
  /** Puts releases on the fast or the slow queue; throws if the queue did not take them. */
  enqueue(messages: DeliveryMessage[], path: DeliveryPath): Promise<void>;
  /** Makes sure the alarm fires no later than `at`. */
  wakeBy(at: number): Promise<void>;
  /** Sets the next alarm exactly (after an alarm pass); null clears it. */
  setAlarm(at: number | null): Promise<void>;
  sign: Sign;
  /** Runs `tick` every `ms` (the XAA stream's keep-alives) until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
  /**
   * Calls to the app's other shards (docs/scaling.md), made only by a sharded app's replay. Absent
   * where every app has one object (the simulator); a sharded object without them refuses replay.
   */
  shards?: ShardCalls;
}

/** What one shard of an app asks another: always by app id and shard index. */
export interface ShardCalls {
  /** Asks shard `shard` to start (or tell the state of) its part of a replay job. */
  startReplayPart(appId: string, shard: number, job: ReplayPartJob): Promise<ReplayPartState>;
  /** Tells shard 0 that a part has finished, with its counts. */
  replayPartFinished(appId: string, part: { jobId: string; shard: number; total: number; delivered: number }): Promise<void>;
}

/** The settings the object's delivery logic reads (a slice of src/config.ts). */
export interface DeliverySettings {
  /** One attempt's deadline, from the moment its POST starts. */
  deliveryTimeoutMs: number;
  /** A release not claimed within this is released again (superseding the first). */
  releaseLeaseMs: number;
  /** A hand-out must start within this, or not at all. */
  handOutStartWindowMs: number;
  /** How long after a hand-out's deadline plus the attempt timeout a report may still arrive. */
  reportGraceMs: number;
  retryScheduleSeconds: number[];
  retention: { payloadMs: number; ledgerMs: number };
  replayRatePerSecond: number;
  /** A webhook answering slower than this (or not at all) moves to the slow path. */
  slowWebhookMs: number;
  /** The app's XAA streams: connections, keep-alives, how far a reader may fall behind. */
  stream: StreamSettings;
}

/** When an unreported hand-out is given up as outcome unknown. */
export const handOutLeaseMs = (s: DeliverySettings) => s.deliveryTimeoutMs + s.reportGraceMs;
