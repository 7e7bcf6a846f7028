import { REQUIRED_SCOPE } from './audience';
import { type DeliveryKind, type EntitlementView, entitlementAt, grantsHeldThroughout, isOnStream, isUserEvent } from './entitlement';
import { xaaScopeOf } from './xaa-events';

/**
 * The audit (docs/delivery.md, "Audit"): re-derives, for one ledger entry, whether the request was
 * entitled, from D1's kept control-plane history instead of the object that decided to send it. The
 * rule is the same one the object applies (`entitlementAt`), asked at two moments: when the event
 * was ingested, and when the attempt started. Pure.
 */
export interface AppHistory {
  /** Status changes, oldest first. */
  statusChanges: { status: string; at: number }[];
  /** Each webhook with its kept states (URL, validity, deletion from `at`), oldest first. */
  webhooks: { id: string; createdAt: number; deletedAt: number | null; states?: WebhookState[] }[];
  subscriptions: { webhookId: string; userId: string; createdAt: number; endedAt: number | null }[];
  authorizations: { userId: string; scope: string; createdAt: number; endedAt: number | null }[];
  /** X Activity API subscriptions, each with the webhooks it targeted (null: the stream only), oldest first. */
  xaaSubscriptions?: XaaSubscriptionHistory[];
}

export interface XaaSubscriptionHistory {
  id: string;
  userId: string;
  createdAt: number;
  endedAt: number | null;
  targets: { webhookId: string | null; at: number }[];
}

export interface WebhookState {
  at: number;
  url: string;
  valid: boolean;
  deleted: boolean;
}

export interface AuditedAttempt {
  kind: string;
  eventType: string;
  /** The destination webhook; '' for a line on the XAA stream. */
  webhookId: string;
  /** The XAA subscription the delivery was rendered for; null or absent for Account Activity. */
  xaaSubscriptionId?: string | null;
  forUserId: string;
  ingestedAt: number;
  /** When the attempt was handed out. */
  at: number;
  /** The exact destination it was handed out for (null on rows written before destinations were kept). */
  url?: string | null;
  /** Its start deadline, and when the POST really started (null if never reported). */
  startBy?: number | null;
  startedAt?: number | null;
}

/** How far past its deadline a reported start may be before it is a violation (clock difference between object and consumer). */
export const START_TOLERANCE_MS = 1_000;

/** The webhook's kept state in force at `t`, if its history is kept. */
export function webhookStateAt(webhook: { states?: WebhookState[] }, t: number): WebhookState | null | undefined {
  if (!webhook.states || webhook.states.length === 0) return undefined;
  let state: WebhookState | null = null;
  for (const s of webhook.states) {
    if (s.at <= t) state = s;
    else break;
  }
  return state;
}

const liveAt = (row: { createdAt: number; endedAt: number | null }, t: number) =>
  row.createdAt <= t && (row.endedAt === null || row.endedAt > t);

export function statusAt(history: AppHistory, t: number): string | null {
  let status: string | null = null;
  for (const change of history.statusChanges) {
    if (change.at <= t) status = change.status;
    else break;
  }
  return status;
}

/** D1's history, seen through the entitlement rule's questions. */
export function historyView(history: AppHistory): EntitlementView {
  return {
    appStatusAt: (t) => statusAt(history, t),
    appActiveThroughout: (since, t) =>
      statusAt(history, since) === 'active' && !history.statusChanges.some((c) => c.at > since && c.at <= t && c.status !== 'active'),
    webhookAt: (webhookId, t) => {
      const webhook = history.webhooks.find((w) => w.id === webhookId);
      if (!webhook || webhook.createdAt > t || (webhook.deletedAt !== null && webhook.deletedAt <= t)) return null;
      const state = webhookStateAt(webhook, t);
      if (state === undefined) return { valid: true }; // no kept validity history: existence only
      return state && !state.deleted ? { valid: state.valid } : null;
    },
    subscriptionCovers: (webhookId, userId, since, t) =>
      history.subscriptions.some(
        (s) => s.webhookId === webhookId && s.userId === userId && s.createdAt <= since && (s.endedAt === null || s.endedAt > t),
      ),
    scopeAt: (userId, t) => history.authorizations.find((a) => a.userId === userId && liveAt(a, t))?.scope ?? null,
    scopeHeldThroughout: (userId, scope, since, t) =>
      grantsHeldThroughout(
        history.authorizations
          .filter((a) => a.userId === userId)
          .map((a) => ({ scope: a.scope, startedAt: a.createdAt, endedAt: a.endedAt })),
        scope,
        since,
        t,
      ),
    xaaSubscriptionCovers: (id, webhookId, userId, since, t) => {
      const sub = history.xaaSubscriptions?.find((s) => s.id === id);
      if (!sub || sub.userId !== userId || sub.createdAt > since || (sub.endedAt !== null && sub.endedAt <= t)) return false;
      if (webhookId === null) return true;
      // The target in force at `since` must be this webhook, and it must not have moved before `t`.
      const targetAt = (x: number) => sub.targets.filter((target) => target.at <= x).at(-1)?.webhookId ?? null;
      return targetAt(since) === webhookId && !sub.targets.some((target) => target.at > since && target.at <= t);
    },
  };
}

const KINDS: readonly string[] = ['event', 'replay', 'revoke', 'replay_status', 'test', 'stream', 'stream_notice'] satisfies DeliveryKind[];

/** The scope a user event needs, null when public; undefined for an event type the service does not have. */
function requiredScopeOf(entry: AuditedAttempt): string | null | undefined {
  if (entry.xaaSubscriptionId) return xaaScopeOf(entry.eventType);
  return REQUIRED_SCOPE[entry.eventType as keyof typeof REQUIRED_SCOPE];
}

/** Why this attempt was not entitled, or null if the history entitles it. */
export function violationOf(entry: AuditedAttempt, history: AppHistory): string | null {
  if (entry.ingestedAt > entry.at) return 'attempt recorded before its event was ingested';
  if (!KINDS.includes(entry.kind)) return `unknown delivery kind ${entry.kind}`;
  const kind = entry.kind as DeliveryKind;
  const onStream = isOnStream(kind);
  if (!onStream && !history.webhooks.some((w) => w.id === entry.webhookId)) return 'webhook does not belong to this app';
  const userEvent = isUserEvent(kind);
  if (kind === 'stream' && !entry.xaaSubscriptionId) return 'a stream line without an XAA subscription';
  const requiredScope = userEvent ? requiredScopeOf(entry) : null;
  if (userEvent && requiredScope === undefined) return `unknown event type ${entry.eventType}`;
  const scope = {
    kind,
    webhookId: entry.webhookId,
    userId: entry.forUserId,
    requiredScope: requiredScope ?? null,
    ingestedAt: entry.ingestedAt,
    xaaSubscriptionId: entry.xaaSubscriptionId ?? null,
  };
  const view = historyView(history);
  for (const [t, moment] of [
    [entry.ingestedAt, 'when the event was ingested'],
    [entry.at, 'when the request was sent'],
  ] as const) {
    const verdict = entitlementAt(view, scope, t);
    if (verdict.kind === 'withdrawn') return `${verdict.reason} ${moment}`;
    if (verdict.kind === 'hold' && t === entry.at) return 'webhook was invalid (failed its CRC) when the request was sent';
  }
  if (onStream) return null; // no destination URL: the app's own stream, held by its own object
  // The 2018 question: did the request go to this webhook's own URL at that moment?
  const webhook = history.webhooks.find((w) => w.id === entry.webhookId)!;
  const state = webhookStateAt(webhook, entry.at);
  if (entry.url && state && state.url !== entry.url) {
    return `destination ${entry.url} was not webhook ${entry.webhookId}'s URL (${state.url}) when the request was sent`;
  }
  // The fence rests on hand-outs starting before their deadline.
  if (entry.startedAt != null && entry.startBy != null && entry.startedAt > entry.startBy + START_TOLERANCE_MS) {
    return `started ${entry.startedAt - entry.startBy} ms after its hand-out deadline`;
  }
  return null;
}
