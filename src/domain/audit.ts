import { hasScope, REQUIRED_SCOPE } from './audience';

/**
 * Re-checks one ledger entry against the kept control-plane history, independently of the object that
 * sent it: a request may have been sent to app A's webhook W for user U only if, from the moment the event was
 * ingested until the attempt started, A was active, W existed, one subscription of U on W was live
 * throughout, and U's authorization of A held the event's scope at both moments. Pure.
 */
export interface AppHistory {
  /** Status changes, oldest first. */
  statusChanges: { status: string; at: number }[];
  webhooks: { id: string; createdAt: number; deletedAt: number | null }[];
  subscriptions: { webhookId: string; userId: string; createdAt: number; endedAt: number | null }[];
  authorizations: { userId: string; scope: string; createdAt: number; endedAt: number | null }[];
}

export interface AuditedAttempt {
  kind: string;
  eventType: string;
  webhookId: string;
  forUserId: string;
  ingestedAt: number;
  at: number;
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

/** Why this attempt was not entitled, or null if the history entitles it. */
export function violationOf(entry: AuditedAttempt, history: AppHistory): string | null {
  if (entry.ingestedAt > entry.at) return 'attempt recorded before its event was ingested';
  if (statusAt(history, entry.ingestedAt) !== 'active') return 'app was not active when the event was ingested';
  if (statusAt(history, entry.at) !== 'active') return 'app was not active when the request was sent';
  const webhook = history.webhooks.find((w) => w.id === entry.webhookId);
  if (!webhook) return 'webhook does not belong to this app';
  if (webhook.createdAt > entry.ingestedAt || (webhook.deletedAt !== null && webhook.deletedAt <= entry.at)) {
    return 'webhook did not exist for the whole time from ingest to send';
  }
  if (entry.kind === 'revoke' || entry.kind === 'replay_status') return null; // app-level notices
  if (entry.kind !== 'event' && entry.kind !== 'replay') return `unknown delivery kind ${entry.kind}`;
  const scope = REQUIRED_SCOPE[entry.eventType as keyof typeof REQUIRED_SCOPE];
  if (!scope) return `unknown event type ${entry.eventType}`;
  const covered = history.subscriptions.some(
    (s) =>
      s.webhookId === entry.webhookId &&
      s.userId === entry.forUserId &&
      s.createdAt <= entry.ingestedAt &&
      (s.endedAt === null || s.endedAt > entry.at),
  );
  if (!covered) return 'no subscription of the user on this webhook covered the event from ingest to send';
  const authorized = (t: number) =>
    history.authorizations.some((a) => a.userId === entry.forUserId && liveAt(a, t) && hasScope(a.scope, scope));
  if (!authorized(entry.ingestedAt)) return `user had not authorized ${scope} when the event was ingested`;
  if (!authorized(entry.at)) return `user's ${scope} authorization had ended when the request was sent`;
  return null;
}
