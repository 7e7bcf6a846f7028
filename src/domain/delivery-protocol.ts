import { z } from 'zod';
import type { AttemptResult } from './retry';
import { MAX_DELIVERY_SHARDS } from './shards';

/**
 * The protocol between an app's object and the queue consumer (docs/delivery.md, "Hand-out and
 * withdrawal"). The object releases a lane's head to the queue (ids only), the consumer claims it
 * when it has a free connection, the object writes the attempt to its ledger and hands back the
 * signed request with a start deadline, and the consumer reports what happened.
 */

/** Names one attempt of one delivery in one app's object. */
export interface DeliveryRef {
  seq: number;
  deliveryId: string;
  attempt: number;
}

const numericId = z.string().regex(/^[0-9]{1,19}$/);

/**
 * A queue message: one release of one delivery. The app and its shard (which object to ask) and the webhook (so
 * the consumer can share its connections fairly) are ids; no payloads, secrets or URLs. `release`
 * numbers the releases of a message: only the latest one can be claimed.
 */
export const deliveryMessageSchema = z.object({
  app: numericId,
  seq: z.number().int().positive(),
  deliveryId: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
  release: z.number().int().positive(),
  webhook: numericId,
  /** The app's delivery shard that released it (src/domain/shards.ts); absent for shard 0. */
  shard: z
    .number()
    .int()
    .min(1)
    .max(MAX_DELIVERY_SHARDS - 1)
    .optional(),
});

export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** Which queue a release travels on: webhooks that answer slowly or not at all get their own. */
export type DeliveryPath = 'fast' | 'slow';

/** One signed request, handed out by the object after its attempt is on the ledger. */
export interface HandOut extends DeliveryRef {
  /** The attempt's ledger row: the report names it. */
  handOutId: number;
  webhookId: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Object time after which the request must not be started; the consumer also counts `startWithinMs` from receipt. */
  startBy: number;
  startWithinMs: number;
}

export interface AttemptReport extends DeliveryRef {
  handOutId: number;
  /** When the POST started, or null when the consumer never started it (deadline passed, or it gave up). */
  startedAt: number | null;
  /** The outcome of a started POST. */
  result: AttemptResult | null;
}

export interface ClaimResult {
  handOuts: HandOut[];
  /** Claimed messages still waiting for a connection: the consumer may claim them again later. */
  deferred: number[];
}

export interface ReportOptions {
  /** Hand out up to `capacity` of the app's next work with the answer. */
  chain?: boolean;
  capacity?: number;
  /** Webhooks the consumer saw answer slowly: their releases move to the slow queue. */
  slowWebhooks?: string[];
  /**
   * The consumer's queue: besides the lane heads this report released, other released work of
   * webhooks on this path may fill `capacity` (their queue messages then find nothing to claim).
   */
  pull?: DeliveryPath;
}

export interface ReportResult {
  /** Webhooks that answered 410 Gone: the Worker marks them invalid in D1 too, as of `at`. */
  goneWebhooks: string[];
  /** The object's time of this report (a later CRC outcome in D1 is not overwritten). */
  at: number;
  /** Lane heads this report released, handed out at once to keep busy lanes moving. */
  next: HandOut[];
}

/**
 * What a withdrawal returns: when it took effect in the object, how long until no request in its
 * scope can start, and the D1 ids of the authorizations and subscriptions (AAA and XAA) it ended (D1 ends exactly
 * these, so a racing grant or subscribe cannot leave the two stores disagreeing).
 */
export interface Withdrawal {
  effectiveAt: number;
  fenceWaitMs: number;
  ended: { authorizations: string[]; subscriptions: string[]; xaaSubscriptions: string[] };
}
