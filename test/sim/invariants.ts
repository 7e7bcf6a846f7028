import type { HandOut } from '../../src/domain/delivery-protocol';
import type { D1Model } from './d1-model';
import { InvariantViolation } from './scheduler';
import type { SimApp } from './world';

/**
 * The protocol's promises, checked by the simulator after every step (docs/delivery.md,
 * "Guarantees"). Each check names the invariant it enforces; a violation stops the run and prints
 * the seed that replays it.
 */

/** A withdrawal as the platform saw it: in effect from `effectiveAt`, answered at `returnedAt`. */
export interface WithdrawalRecord {
  appId: string;
  webhookId?: string;
  userId?: string;
  /** For a narrower re-grant: the scopes it took away. */
  removedScopes?: string[];
  /** For an XAA subscription's delete (or, with `webhookId`, its move off that webhook). */
  xaaSubscriptionIds?: string[];
  effectiveAt: number;
  returnedAt: number;
  what: string;
}

type MessageInfo = {
  seq: number;
  kind: string;
  webhook_id: string;
  user_id: string;
  required_scope: string | null;
  created_at: number;
  event_type: string;
  replay_job_id: string | null;
  xaa_subscription_id: string | null;
};

/** Whether a returned withdrawal's scope covers this message (delivery to a webhook, or a stream line). */
function covers(w: WithdrawalRecord, m: MessageInfo): boolean {
  const userEvent = m.kind === 'event' || m.kind === 'replay' || m.kind === 'stream';
  if (w.xaaSubscriptionIds !== undefined) {
    return (
      m.xaa_subscription_id !== null &&
      w.xaaSubscriptionIds.includes(m.xaa_subscription_id) &&
      (w.webhookId === undefined || w.webhookId === m.webhook_id)
    );
  }
  if (w.webhookId === undefined && w.userId === undefined) return true;
  if (w.webhookId !== undefined) {
    // A webhook's withdrawal (unsubscribe, delete); AAA's unsubscribe of one user leaves XAA alone.
    if (w.webhookId !== m.webhook_id) return false;
    return w.userId === undefined || (userEvent && m.xaa_subscription_id === null && w.userId === m.user_id);
  }
  // A user's: a revoke takes what needed an authorization (XAA's public events stay), a narrower
  // re-grant what needed a scope it took away.
  if (!userEvent || w.userId !== m.user_id || m.required_scope === null) return false;
  return w.removedScopes === undefined || w.removedScopes.includes(m.required_scope);
}

const laneOf = (m: MessageInfo) =>
  m.kind === 'replay' ? `${m.webhook_id}|${m.user_id}|r${m.replay_job_id}` : `${m.webhook_id}|${m.user_id}`;

/** Everything that must hold at the moment a POST starts. */
export function checkPostStart(
  app: SimApp,
  d1: D1Model,
  handOut: HandOut,
  now: number,
  withdrawals: WithdrawalRecord[],
  startedByLane: Map<string, number>,
): void {
  const { store } = app;
  // Recorded before it acts: the attempt's ledger row exists, for this message, attempt and URL.
  const row = store.ledger.handOut(handOut.handOutId);
  if (!row || row.seq !== handOut.seq || row.attempt !== handOut.attempt || row.url !== handOut.url) {
    throw new InvariantViolation(
      'write-ahead',
      `app ${app.id} POST of delivery ${handOut.deliveryId} attempt ${handOut.attempt} started with no matching ledger row`,
    );
  }
  const message = store.outbox.message(handOut.seq) as MessageInfo | undefined;
  if (!message) throw new InvariantViolation('write-ahead', `app ${app.id} POST of an unknown message seq ${handOut.seq}`);

  // Nothing handed to another app: the webhook is this app's in D1, and the URL is that webhook's.
  const webhook = d1.webhooks.get(message.webhook_id);
  if (!webhook || webhook.appId !== app.id || webhook.url !== handOut.url || handOut.headers['x-sim-app'] !== app.id) {
    throw new InvariantViolation(
      'isolation',
      `app ${app.id} POSTed delivery ${handOut.deliveryId} to webhook ${message.webhook_id} (${handOut.url})`,
    );
  }

  // Fenced withdrawal: no POST in a withdrawn scope starts after the withdrawal returned.
  for (const w of withdrawals) {
    if (w.appId !== app.id || w.returnedAt > now || message.created_at > w.effectiveAt) continue;
    if (covers(w, message)) {
      throw new InvariantViolation(
        'fence',
        `app ${app.id} POST of ${handOut.deliveryId} (ingested ${message.created_at}) started at ${now}, after "${w.what}" (effective ${w.effectiveAt}) returned at ${w.returnedAt}`,
      );
    }
  }

  // FIFO per lane: nothing earlier in the lane is unfinished, and no later message started before.
  const lane = laneOf(message);
  if (message.kind === 'event' || message.kind === 'replay') {
    const earlier = app.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox WHERE lane = ? AND seq < ?', lane, handOut.seq).one().n;
    const latest = startedByLane.get(`${app.id}/${lane}`) ?? 0;
    if (earlier > 0 || latest > handOut.seq) {
      throw new InvariantViolation(
        'fifo',
        `app ${app.id} lane ${lane}: seq ${handOut.seq} started with ${earlier} earlier unfinished, latest started ${latest}`,
      );
    }
    startedByLane.set(`${app.id}/${lane}`, handOut.seq);
  }
}

/**
 * Right after an ingest: every message the object appended is one D1 entitles (deliver less, never
 * more). Only this call's messages (created now) are checked: a retried ingest finds the first
 * call's messages, made when D1 may have said otherwise.
 */
export function checkIngest(app: SimApp, d1: D1Model, eventId: string, now: number): void {
  const rows = app.sql
    .exec<{ webhook_id: string; user_id: string; required_scope: string | null; kind: string; xaa_subscription_id: string | null }>(
      'SELECT webhook_id, user_id, required_scope, kind, xaa_subscription_id FROM messages WHERE event_id = ? AND created_at = ?',
      eventId,
      now,
    )
    .toArray();
  for (const m of rows) {
    if (m.xaa_subscription_id !== null) {
      const target = m.kind === 'stream' ? null : m.webhook_id;
      if (!d1.entitlesXaa(app.id, m.xaa_subscription_id, target, m.user_id)) {
        throw new InvariantViolation(
          'entitlement',
          `app ${app.id} appended event ${eventId} for XAA subscription ${m.xaa_subscription_id} (${m.kind} to ${target ?? 'the stream'}), which D1 does not entitle: D1 ${JSON.stringify(d1.xaaSubscriptions.get(m.xaa_subscription_id) ?? null)}`,
        );
      }
      continue;
    }
    if (!d1.entitles(app.id, m.webhook_id, m.user_id, m.required_scope)) {
      const d1State = JSON.stringify({
        app: d1.apps.get(app.id),
        webhook: d1.webhooks.get(m.webhook_id),
        sub: d1.liveSubscription(m.webhook_id, m.user_id) ?? null,
        auth: d1.liveAuthorization(app.id, m.user_id) ?? null,
      });
      const { subscriptions, authorizations } = app.store.mirrorDrift.rows();
      const mirror = JSON.stringify({
        status: app.store.tenant.get()?.status,
        webhookDeletedAt: app.store.webhooks.get(m.webhook_id)?.deleted_at,
        subs: subscriptions.filter((s) => s.user_id === m.user_id),
        auths: authorizations.filter((a) => a.user_id === m.user_id),
      });
      throw new InvariantViolation(
        'entitlement',
        `app ${app.id} appended event ${eventId} (needs ${m.required_scope}) for user ${m.user_id} on webhook ${m.webhook_id}, which D1 does not entitle: D1 ${d1State}; object ${mirror}`,
      );
    }
  }
}

/** The object's mirror is never wider than D1. */
export function checkMirrorWithinD1(app: SimApp, d1: D1Model): void {
  const tenant = app.store.tenant.get();
  const d1App = d1.apps.get(app.id);
  if (tenant?.status === 'active' && d1App?.status !== 'active') {
    throw new InvariantViolation('mirror', `app ${app.id} is active in its object but ${d1App?.status} in D1`);
  }
  // Live rows only (ended ones cannot be wider), read straight from the object's tables: this runs after every step.
  const authorizations = app.sql
    .exec<{ user_id: string; scope: string }>('SELECT user_id, scope FROM authorizations WHERE ended_at IS NULL')
    .toArray();
  const subscriptions = app.sql.exec<{ id: string | null }>('SELECT id FROM subscriptions WHERE ended_at IS NULL').toArray();
  for (const a of authorizations) {
    const live = d1.liveAuthorization(app.id, a.user_id);
    const d1Scopes = new Set(live?.scope.split(' ') ?? []);
    if (!live || a.scope.split(' ').some((s) => s !== '' && !d1Scopes.has(s))) {
      throw new InvariantViolation(
        'mirror',
        `app ${app.id} user ${a.user_id}: object scope "${a.scope}" is wider than D1's "${live?.scope ?? 'none'}"`,
      );
    }
  }
  for (const s of subscriptions) {
    const live = s.id ? d1.subscriptions.get(s.id) : undefined;
    if (!live || live.end !== null)
      throw new InvariantViolation('mirror', `app ${app.id}: subscription ${s.id} is live in the object but not in D1`);
  }
  for (const x of app.store.mirror.xaa.all()) {
    if (x.ended_at !== null || x.event_type === '') continue; // ended, or a placeholder that matches nothing
    const live = d1.xaaSubscriptions.get(x.id);
    if (!live || live.end !== null)
      throw new InvariantViolation('mirror', `app ${app.id}: XAA subscription ${x.id} is live in the object but not in D1`);
    if (x.webhook_id !== null && x.webhook_id !== live.webhookId)
      throw new InvariantViolation(
        'mirror',
        `app ${app.id}: XAA subscription ${x.id} targets ${x.webhook_id} in the object, ${live.webhookId} in D1`,
      );
  }
  for (const w of app.sql
    .exec<{ id: string; deleted_at: number | null; valid: number }>('SELECT id, deleted_at, valid FROM webhooks')
    .toArray()) {
    const d1Webhook = d1.webhooks.get(w.id);
    if (!d1Webhook) continue; // registered in the object first; nothing can subscribe to it before D1 has it
    if (w.deleted_at === null && w.valid === 1 && (d1Webhook.deleted || !d1Webhook.valid)) {
      throw new InvariantViolation('mirror', `app ${app.id}: webhook ${w.id} is valid in the object but not in D1`);
    }
  }
}

/**
 * After the run drains: nothing lost (every message finished, on the record) and D1 and the object
 * agree. A failed message's record may end in `not_sent`: a hand-out given up as outcome unknown
 * counts as an attempt, and a late report can then say it never started.
 */
export function checkQuiescent(app: SimApp, d1: D1Model): void {
  const outbox = app.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n;
  if (outbox > 0) throw new InvariantViolation('nothing-lost', `app ${app.id} still has ${outbox} messages in its outbox after draining`);
  const unrecorded = app.sql
    .exec<{ seq: number; state: string }>(
      `SELECT m.seq, m.state FROM messages m WHERE m.kind IN ('event', 'revoke', 'test')
         AND (m.state NOT IN ('delivered', 'failed', 'dropped')
              OR NOT EXISTS (SELECT 1 FROM ledger l WHERE l.seq = m.seq AND (
                   (m.state = 'delivered' AND l.outcome = 'delivered') OR (m.state = 'dropped' AND l.outcome = 'dropped')
                   OR (m.state = 'failed' AND l.outcome IN ('failed', 'unknown', 'retrying', 'gone', 'not_sent')))))`,
    )
    .toArray();
  if (unrecorded.length > 0) {
    throw new InvariantViolation(
      'nothing-lost',
      `app ${app.id}: messages not finished on the record: ${JSON.stringify(unrecorded.slice(0, 5))}`,
    );
  }
  checkMirrorWithinD1(app, d1);
  const d1App = d1.apps.get(app.id)!;
  if (app.store.tenant.get()?.status !== d1App.status) {
    throw new InvariantViolation('convergence', `app ${app.id}: object status ${app.store.tenant.get()?.status}, D1 ${d1App.status}`);
  }
  const { authorizations, subscriptions } = app.store.mirrorDrift.rows();
  for (const a of d1.authorizations.values()) {
    if (a.appId !== app.id || a.end !== null) continue;
    const mirrored = authorizations.find((m) => m.id === a.id && m.ended_at === null);
    if (mirrored?.scope !== a.scope)
      throw new InvariantViolation('convergence', `app ${app.id}: D1 authorization ${a.id} (${a.scope}) is not live in the object`);
  }
  for (const s of d1.subscriptions.values()) {
    if (s.appId !== app.id || s.end !== null) continue;
    if (!subscriptions.some((m) => m.id === s.id && m.ended_at === null)) {
      throw new InvariantViolation('convergence', `app ${app.id}: D1 subscription ${s.id} is not live in the object`);
    }
  }
  for (const s of d1.liveXaa(app.id)) {
    const mirrored = app.store.mirror.xaa.get(s.id);
    if (mirrored?.ended_at !== null || mirrored.webhook_id !== s.webhookId || mirrored.event_type !== s.eventType) {
      throw new InvariantViolation(
        'convergence',
        `app ${app.id}: D1 XAA subscription ${s.id} (to ${s.webhookId}) is not so in the object ${JSON.stringify(mirrored)} D1 ${JSON.stringify(s)}`,
      );
    }
  }
}

/**
 * Lines written to an app's streams since `afterId` (ledger rows of kind stream/stream_notice): each
 * one D1 entitled when it was written (this step), and none in the scope of a withdrawal already in
 * effect (a stream needs no fence: a line is checked as it is written). Returns the last row's id.
 */
export function checkStreamWrites(app: SimApp, d1: D1Model, withdrawals: WithdrawalRecord[], afterId: number): number {
  const rows = app.sql
    .exec<{ id: number; seq: number; at: number; for_user_id: string; xaa_subscription_id: string | null }>(
      `SELECT id, seq, at, for_user_id, xaa_subscription_id FROM ledger WHERE kind IN ('stream', 'stream_notice') AND id > ? ORDER BY id`,
      afterId,
    )
    .toArray();
  for (const row of rows) {
    const message = app.store.outbox.message(row.seq) as MessageInfo | undefined;
    if (!message) throw new InvariantViolation('write-ahead', `app ${app.id}: stream line ${row.id} names no message`);
    if (row.xaa_subscription_id !== null && !d1.entitlesXaa(app.id, row.xaa_subscription_id, null, row.for_user_id)) {
      throw new InvariantViolation(
        'entitlement',
        `app ${app.id} wrote stream line of ${row.xaa_subscription_id} for ${row.for_user_id}, which D1 does not entitle`,
      );
    }
    if (d1.apps.get(app.id)?.status !== 'active') {
      throw new InvariantViolation('entitlement', `app ${app.id} wrote a stream line while not active in D1`);
    }
    for (const w of withdrawals) {
      if (w.appId === app.id && w.effectiveAt < row.at && message.created_at <= w.effectiveAt && covers(w, message)) {
        throw new InvariantViolation(
          'fence',
          `app ${app.id} wrote stream line ${row.id} at ${row.at}, after "${w.what}" took effect at ${w.effectiveAt} (${message.event_type} ingested at ${message.created_at} for ${row.for_user_id}, XAA subscription ${row.xaa_subscription_id})`,
        );
      }
    }
  }
  return rows.at(-1)?.id ?? afterId;
}
