/**
 * How far ahead one consumer invocation claims, and how much of that one app may hold (docs/delivery.md,
 * "Fairness" and docs/scaling.md). Pure.
 *
 * Every call to an app's object is a billed request and a storage commit, so the consumer wants many
 * hand-outs per call; every hand-out must start within its start window, so it must not claim more
 * than its connections can start in time. The answer: claim what the connections would get through
 * in half a start window at the latencies this invocation has seen, never fewer than MIN_PREFETCH and
 * never more than MAX_PREFETCH; and let each app with work hold an even share of that, at least
 * MIN_APP_SHARE, so one app's claim or report carries several deliveries.
 */

/** Cloudflare lets one invocation have at most this many connections open at once; more would queue unsent. */
export const MAX_CONNECTIONS = 6;
export const MIN_PREFETCH = 24;
export const MAX_PREFETCH = 120;
export const MIN_APP_SHARE = 4;
/**
 * How long a finished attempt may wait for others of its app to share one report call. Each lane's
 * next message waits for its report, so this adds at most this much to a busy lane's pace.
 */
export const REPORT_LINGER_MS = 10;
/**
 * How often a run asks an idle shard of a sharded app for released work while another shard of the
 * same app keeps the run busy (delivery-run.ts, `pollIdleShards`): the most a live event released in
 * that shard waits, when its queue message is behind the run it is not part of.
 */
export const IDLE_SHARD_POLL_MS = 200;
/** Latencies needed before the estimate is trusted over MIN_PREFETCH. */
const SAMPLES_BEFORE_TRUST = MAX_CONNECTIONS;
/** Weight of the newest latency in the moving average. */
const EWMA_WEIGHT = 0.2;

/** A moving average of the POST latencies one invocation saw. */
export class LatencyEstimate {
  private mean = 0;
  private samples = 0;

  observe(latencyMs: number): void {
    this.samples++;
    this.mean = this.samples === 1 ? latencyMs : this.mean + EWMA_WEIGHT * (latencyMs - this.mean);
  }

  /** Hand-outs worth holding ready or on their way, given the start window. */
  prefetch(startWindowMs: number): number {
    if (this.samples < SAMPLES_BEFORE_TRUST) return MIN_PREFETCH;
    const perConnection = startWindowMs / 2 / Math.max(1, this.mean);
    return Math.max(MIN_PREFETCH, Math.min(MAX_PREFETCH, Math.floor(MAX_CONNECTIONS * perConnection)));
  }
}

/** The most one app may hold claimed (ready, in flight or asked for) while `appsWithWork` apps share `prefetch`. */
export function appShare(prefetch: number, appsWithWork: number): number {
  return Math.max(MIN_APP_SHARE, Math.ceil(prefetch / Math.max(1, appsWithWork)));
}
