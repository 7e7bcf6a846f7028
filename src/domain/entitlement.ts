import { hasScope } from './audience';

/**
 * The one rule that decides whether a delivery may be sent (docs/delivery.md, "Who may receive
 * what"). The app's object asks it about the present from its own mirror of the control plane before
 * it appends, releases, hands out or replays anything; the audit asks it about the past from D1's
 * kept history. Both see the same question through an `EntitlementView`, so there is one rule and
 * two independent sources of facts. Pure.
 */
export type DeliveryKind = 'event' | 'replay' | 'revoke' | 'replay_status' | 'test' | 'stream' | 'stream_notice';

/**
 * What is delivered: a user's event (`event`, a `replay` copy, or a line on the XAA stream, `stream`),
 * or an app-level notice (`revoke` and `replay_status` to a webhook, `stream_notice` on the stream).
 */
export interface DeliveryScope {
  kind: DeliveryKind;
  /** The destination webhook; '' on the stream. */
  webhookId: string;
  /** The user the event is for (an XAA subscription's filter user); '' for app-level notices (revoke, replay status, a developer's test event). */
  userId: string;
  /** The authorization scope the event needs; null when it needs none (XAA's public events). */
  requiredScope: string | null;
  /** When the event reached the app's object: the subscription must already have covered it then. */
  ingestedAt: number;
  /** The X Activity API subscription it was rendered for; absent for Account Activity deliveries. */
  xaaSubscriptionId?: string | null;
}

/** The control plane as one party knows it, at any time `t` it keeps history for. */
export interface EntitlementView {
  appStatusAt(t: number): string | null;
  /** Whether the app was active the whole time from `since` through `t`. */
  appActiveThroughout(since: number, t: number): boolean;
  /** The webhook as it was at `t`, or null if it did not exist (not yet created, or deleted). */
  webhookAt(webhookId: string, t: number): { valid: boolean } | null;
  /** Whether one subscription of the user on the webhook was live from `since` through `t`. */
  subscriptionCovers(webhookId: string, userId: string, since: number, t: number): boolean;
  /**
   * Whether XAA subscription `id`, for `userId`, was live from `since` through `t` and, for a webhook
   * delivery (`webhookId` not null), targeted that webhook the whole time.
   */
  xaaSubscriptionCovers(id: string, webhookId: string | null, userId: string, since: number, t: number): boolean;
  /** The user's live authorization scope at `t` (space-separated), or null. */
  scopeAt(userId: string, t: number): string | null;
  /** Whether the user's grants held `scope` without a break from `since` through `t`. */
  scopeHeldThroughout(userId: string, scope: string, since: number, t: number): boolean;
}

/** One grant of a user's, as either party keeps it. */
export interface GrantSpan {
  scope: string;
  startedAt: number;
  endedAt: number | null;
}

/**
 * Whether `grants` (one user's, any order) held `scope` without a break from `since` through `t`:
 * every grant in force at some point of that span holds it, the first began by `since`, each next one
 * began when the one before ended (a re-grant), and the last is still in force at `t`.
 */
export function grantsHeldThroughout(grants: readonly GrantSpan[], scope: string, since: number, t: number): boolean {
  const spanning = grants
    .filter((g) => g.startedAt <= t && (g.endedAt === null || g.endedAt > since))
    .sort((a, b) => a.startedAt - b.startedAt);
  // Held up to `since` to begin with: the first grant must have begun by then, each next one by the time the last ended.
  let heldUntil = since;
  for (const grant of spanning) {
    if (!hasScope(grant.scope, scope) || grant.startedAt > heldUntil) return false;
    heldUntil = Math.max(heldUntil, grant.endedAt ?? Number.POSITIVE_INFINITY);
  }
  return heldUntil > t;
}

export type Entitlement = { kind: 'send' } | { kind: 'hold' } | { kind: 'withdrawn'; reason: string };

const SEND: Entitlement = { kind: 'send' };
const HOLD: Entitlement = { kind: 'hold' };
const withdrawn = (reason: string): Entitlement => ({ kind: 'withdrawn', reason });

export const isUserEvent = (kind: DeliveryKind) => kind === 'event' || kind === 'replay' || kind === 'stream';
export const isOnStream = (kind: DeliveryKind) => kind === 'stream' || kind === 'stream_notice';

/**
 * At time `t`: may `delivery` go out (`send`), must it wait for its webhook to pass a CRC again
 * (`hold`), or has its scope been withdrawn? An app-level notice needs only an active app and a
 * live webhook (none on the stream); a user's event also needs the subscription that covered it at
 * ingest to still be live (for XAA: the same subscription, still targeting the same webhook), and,
 * unless the event is public, the user's live authorization to hold the event's scope.
 */
export function entitlementAt(view: EntitlementView, delivery: DeliveryScope, t: number): Entitlement {
  const status = view.appStatusAt(t);
  if (status !== 'active') return withdrawn(`app was not active (${status ?? 'not yet created'})`);
  const onStream = isOnStream(delivery.kind);
  // A suspension drops what webhooks had not been sent; the stream's lines are not dropped, so a line
  // goes out only if the app was active from its ingest on.
  if (onStream && !view.appActiveThroughout(delivery.ingestedAt, t)) return withdrawn('app was not active throughout since the event');
  const webhook = onStream ? { valid: true } : view.webhookAt(delivery.webhookId, t);
  if (!webhook) return withdrawn('webhook did not exist');
  if (isUserEvent(delivery.kind)) {
    if (delivery.xaaSubscriptionId) {
      const target = onStream ? null : delivery.webhookId;
      if (!view.xaaSubscriptionCovers(delivery.xaaSubscriptionId, target, delivery.userId, delivery.ingestedAt, t)) {
        return withdrawn(`XAA subscription ${delivery.xaaSubscriptionId} did not cover the event${onStream ? '' : ' on this webhook'}`);
      }
    } else if (onStream || !view.subscriptionCovers(delivery.webhookId, delivery.userId, delivery.ingestedAt, t)) {
      return withdrawn('no subscription of the user on this webhook covered the event');
    }
    if (delivery.requiredScope !== null) {
      const scope = view.scopeAt(delivery.userId, t);
      if (scope === null) return withdrawn('user had not authorized the app');
      if (!hasScope(scope, delivery.requiredScope)) return withdrawn(`user had not authorized ${delivery.requiredScope}`);
      // A narrowing drops what webhooks had not been sent; the stream's lines are not dropped, so a
      // line goes out only if the scope was held from its ingest on (a scope given back later does
      // not bring back what was ingested before it was taken away).
      if (onStream && !view.scopeHeldThroughout(delivery.userId, delivery.requiredScope, delivery.ingestedAt, t)) {
        return withdrawn(`user had not authorized ${delivery.requiredScope} throughout since the event`);
      }
    }
  }
  return webhook.valid ? SEND : HOLD;
}
