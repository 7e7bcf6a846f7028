import { DurableObject } from 'cloudflare:workers';
import { type Settings, settings } from '../config';
import type { TimedActivity } from '../domain/activities';
import { audienceOf, hasScope, REQUIRED_SCOPE } from '../domain/audience';
import { type CrcChallenge, crcRequestSignature, crcResponseToken } from '../domain/crc';
import { newWebhookSigningSecret, randomToken } from '../domain/crypto';
import { newId } from '../domain/ids';
import { renderPayload, renderRevoke } from '../domain/payloads';
import { describeResult, judgeAttempt } from '../domain/retry';
import { DeliverySigner, inGrace } from './delivery-signer';
import { type LedgerFilter, LedgerQueries } from './ledger-queries';
import { liveLane, type MessageRow, Outbox, type Release } from './outbox';
import type { AttemptReport, ClaimedRequest, DeliveryMessage } from './queue-message';
import { finishReplayIfDone, planReplay, runningJob } from './replay';
import { PURGE_INTERVAL_MS, purgeExpired } from './retention';
import { type AppStatus, type Tenant, TenantState } from './tenant-state';

/** Most rows one alarm pass releases; more are picked up by the next pass, set at once. */
const SWEEP_LIMIT = 500;
/** A release that could not be put on the queue is tried again after this. */
const REQUEUE_DELAY_MS = 5_000;
/**
 * Replay copies are released only while fewer than this many of this app's messages are on the
 * queue, so a replay never builds a backlog that live events would wait behind. Held-back copies are
 * looked at again shortly (and as soon as a report frees room).
 */
const REPLAY_MAX_QUEUED = 200;
const REPLAY_RECHECK_MS = 250;

export const deliveryIdFor = (eventId: string, webhookId: string, userId: string) => `msg_${eventId}_${webhookId}_${userId || 'app'}`;

type Entitlement = 'send' | 'hold' | 'withdrawn';

/**
 * One object per developer app, addressed by `app:<app id>` (see `appObject`). It alone holds the
 * app's consumer secret and webhook signing secrets, its outbox and its ledger. Every RPC names the
 * app it is meant for; a call for any other app is refused, so a routing mix-up fails loudly instead
 * of crossing tenants. Before anything is signed, entitlement is re-checked from this object's own
 * copy of the tenant's control plane (docs/delivery.md, "Isolation guarantees").
 */
export class AppDeliveryObject extends DurableObject<Env> {
  private readonly state: TenantState;
  private readonly outbox: Outbox;
  private readonly ledgerQueries: LedgerQueries;
  private readonly config: Settings;
  private readonly signer = new DeliverySigner();
  /** Room for replay releases, counted once per call (`roomAt` is the call's clock). */
  private replayRoom = { at: -1, room: 0, heldBack: false };

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.state = new TenantState(ctx.storage.sql);
    this.outbox = new Outbox(ctx.storage.sql);
    this.ledgerQueries = new LedgerQueries(ctx.storage.sql);
    this.config = settings(env);
    ctx.blockConcurrencyWhile(async () => {
      this.state.migrate();
      this.outbox.migrate();
    });
  }

  /** Throws unless this object was provisioned for `appId`. */
  private tenantFor(appId: string): Tenant {
    const tenant = this.state.tenant();
    if (!tenant) throw new Error(`app object refused a call for app ${appId}: it is not provisioned`);
    if (tenant.appId !== appId) {
      throw new Error(`app object of app ${tenant.appId} refused a call for app ${appId}`);
    }
    return tenant;
  }

  // ---- control plane mirror -------------------------------------------------------------------

  async provision(appId: string, consumerSecret: string, status: AppStatus, at: number): Promise<void> {
    const existing = this.state.tenant();
    if (existing && existing.appId !== appId) {
      throw new Error(`app object of app ${existing.appId} refused to be provisioned for app ${appId}`);
    }
    this.state.provision(appId, consumerSecret, status, at);
  }

  /** Suspension drops everything undelivered at once; nothing is released while not active. */
  async setAppStatus(appId: string, status: AppStatus, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.setStatus(status, at);
    if (status !== 'active') await this.dropWhere({}, `app ${status}`, at);
  }

  /**
   * Everything the Worker needs to run a CRC without seeing the consumer secret: a fresh token and
   * nonce, the request signature, and the response token a correct webhook must send back.
   */
  async prepareCrc(appId: string): Promise<CrcChallenge> {
    const tenant = this.tenantFor(appId);
    const crcToken = randomToken();
    const nonce = randomToken(16);
    const previous = inGrace(tenant.previousConsumerSecret, tenant.previousConsumerSecretUntil, Date.now());
    const [signature, ...expectedResponseTokens] = await Promise.all([
      crcRequestSignature(tenant.consumerSecret, crcToken, nonce),
      crcResponseToken(tenant.consumerSecret, crcToken),
      ...(previous ? [crcResponseToken(previous, crcToken)] : []),
    ]);
    return { crcToken, nonce, signature, expectedResponseTokens };
  }

  /**
   * A new consumer secret: deliveries are signed with it at once; a webhook answering the CRC with the
   * previous one is still accepted until `previousUntil`.
   */
  async rotateConsumerSecret(appId: string, secret: string, previousUntil: number): Promise<void> {
    this.tenantFor(appId);
    this.state.rotateConsumerSecret(secret, previousUntil);
  }

  /** A new signing secret for one webhook; the previous one still signs too until `previousUntil`. */
  async rotateSigningSecret(appId: string, webhookId: string, previousUntil: number): Promise<string | null> {
    this.tenantFor(appId);
    const webhook = this.state.webhook(webhookId);
    if (!webhook || webhook.deleted_at !== null) return null;
    const secret = newWebhookSigningSecret();
    this.state.rotateSigningSecret(webhookId, secret, previousUntil);
    return secret;
  }

  /** Registers a webhook and returns its Standard Webhooks signing secret (shown to the developer once). */
  async addWebhook(appId: string, webhook: { id: string; url: string; createdAt: number }): Promise<string> {
    this.tenantFor(appId);
    const signingSecret = newWebhookSigningSecret();
    this.state.addWebhook(webhook, signingSecret);
    return signingSecret;
  }

  /** Invalid: its lanes are held. Valid again: what was held is released, in order. */
  async setWebhookValid(appId: string, webhookId: string, valid: boolean): Promise<void> {
    this.tenantFor(appId);
    this.state.setWebhookValid(webhookId, valid);
    if (!valid) return;
    const now = Date.now();
    const releases: Release[] = [];
    for (const head of this.outbox.webhookLaneHeads(webhookId)) this.releaseLane(head.lane, now, releases);
    await this.send(releases);
  }

  async deleteWebhook(appId: string, webhookId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.deleteWebhook(webhookId, at);
    await this.dropWhere({ webhookId }, 'webhook deleted', at);
  }

  async grantAuthorization(appId: string, userId: string, scope: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.grantAuthorization(userId, scope, at);
    // A narrower re-grant withdraws what the new scope no longer covers; the rest of the lane goes on.
    const withdrawn = this.outbox.outboxWhere({ userId }).filter((m) => m.required_scope !== null && !hasScope(scope, m.required_scope));
    await this.dropAndAdvance(withdrawn, 'scope withdrawn', at);
  }

  /**
   * Ends the user's authorization and subscriptions here, drops the user's undelivered events, and
   * tells each valid webhook of the app with a `user_event` revoke (docs/delivery.md, "Revocation and suspension").
   */
  async revokeAuthorization(appId: string, userId: string, at: number): Promise<void> {
    const tenant = this.tenantFor(appId);
    this.state.revokeAuthorization(userId, at);
    await this.dropWhere({ userId }, 'authorization revoked', at);
    if (tenant.status !== 'active') return;
    const eventId = newId(at);
    const payload = renderRevoke(appId, userId, at);
    const releases: Release[] = [];
    for (const webhook of this.state.liveWebhooks().filter((w) => w.valid)) {
      const lane = liveLane(webhook.id, '');
      this.outbox.append({
        deliveryId: deliveryIdFor(eventId, webhook.id, userId),
        kind: 'revoke',
        eventId,
        eventType: 'user_event',
        requiredScope: null,
        webhookId: webhook.id,
        userId: '',
        payload,
        createdAt: at,
        lane,
      });
      this.releaseLane(lane, at, releases);
    }
    await this.send(releases);
  }

  async addSubscription(appId: string, webhookId: string, userId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.addSubscription(webhookId, userId, at);
  }

  async endSubscription(appId: string, webhookId: string, userId: string, at: number): Promise<void> {
    this.tenantFor(appId);
    this.state.endSubscription(webhookId, userId, at);
    await this.dropWhere({ webhookId, userId }, 'unsubscribed', at);
  }

  // ---- data plane -----------------------------------------------------------------------------

  /**
   * Takes events routed here by the Worker. The audience and the required scope are derived again
   * here, and a message is appended only for a user who, in this object's own state, has a live
   * authorization with that scope and a live subscription. Idempotent per event id. Returns the lane
   * heads it released, for the caller to put on the queue.
   */
  async ingest(
    appId: string,
    events: { eventId: string; activity: TimedActivity }[],
  ): Promise<{ messages: number; releases: DeliveryMessage[] }> {
    const tenant = this.tenantFor(appId);
    if (tenant.status !== 'active') return { messages: 0, releases: [] };
    const now = Date.now();
    const releases: Release[] = [];
    let messages = 0;
    for (const { eventId, activity } of events) {
      if (!this.outbox.recordEvent(eventId, activity.id, activity.type, activity.created_at, now)) continue;
      const scope = REQUIRED_SCOPE[activity.type];
      for (const userId of audienceOf(activity)) {
        const granted = this.state.activeScope(userId);
        if (!granted || !hasScope(granted, scope)) continue;
        const subscriptions = this.state.liveSubscriptionsOf(userId);
        if (subscriptions.length === 0) continue;
        const payload = renderPayload(activity, userId);
        for (const { webhookId } of subscriptions) {
          this.outbox.append({
            deliveryId: deliveryIdFor(eventId, webhookId, userId),
            kind: 'event',
            eventId,
            eventType: activity.type,
            requiredScope: scope,
            webhookId,
            userId,
            payload,
            createdAt: now,
          });
          messages++;
          this.releaseLane(liveLane(webhookId, userId), now, releases);
        }
      }
    }
    // The Worker puts the releases of every app it fanned out to on the queue in one sendBatch; if
    // that fails, the lease set here releases them again. The alarm also runs retention.
    await this.wakeBy(Math.min(releases.length > 0 ? now + this.config.deliveryLeaseMs : Infinity, this.nextPurgeAt(now)));
    return { messages, releases: releases.map((r) => this.queueMessage(appId, r)) };
  }

  /**
   * The consumer asks which of the queued deliveries are still live and gets, for each, the request
   * signed now. Anything withdrawn since it was queued is dropped here and never handed out.
   */
  async claim(appId: string, items: DeliveryMessage[]): Promise<ClaimedRequest[]> {
    const tenant = this.tenantFor(appId);
    const now = Date.now();
    const claimed: ClaimedRequest[] = [];
    const releases: Release[] = [];
    const seen = new Set<number>();
    for (const item of items) {
      // The same release can arrive twice (a lease re-send); hand it out once per claim.
      if (seen.has(item.seq)) continue;
      seen.add(item.seq);
      const row = this.outbox.outboxRow(item.seq);
      const message = this.outbox.message(item.seq);
      if (!row || !message || message.delivery_id !== item.id || row.state !== 'queued' || row.attempt !== item.attempt) {
        continue; // stale: already finished, withdrawn, or superseded by a later release
      }
      const entitlement = this.entitlement(message, tenant);
      if (entitlement === 'withdrawn') {
        this.drop(message, 'no longer entitled', now);
        this.releaseLane(row.lane, now, releases);
        continue;
      }
      if (entitlement === 'hold') {
        this.outbox.markWaiting(item.seq, row.attempt, now);
        continue;
      }
      // A claim writes nothing on this path (the lease runs from the release), so it costs no
      // storage commit: claims are one call per app per batch and must stay cheap.
      claimed.push(await this.signed(tenant, message, row.attempt, now));
    }
    await this.send(releases);
    return claimed;
  }

  /**
   * Outcomes of the attempts the consumer made: each is written to the ledger, then the delivery is
   * finished, retried later, or (410) its webhook disabled. Returns the webhooks that answered 410
   * so the Worker can mark them invalid in D1 too.
   *
   * With `chain`, the lane heads this report releases (the next message of each lane that just
   * finished) come back signed in `next` instead of going through the queue, so a busy lane keeps
   * moving at the receiver's pace rather than one queue hop per message. They carry a lease like any
   * release: if the caller dies, the alarm releases them again.
   */
  async report(
    appId: string,
    reports: AttemptReport[],
    options: { chain?: boolean } = {},
  ): Promise<{ goneWebhooks: string[]; next: ClaimedRequest[] }> {
    const tenant = this.tenantFor(appId);
    const now = Date.now();
    const releases: Release[] = [];
    const gone = new Set<string>();
    let wake = Infinity;
    for (const { seq, deliveryId, attempt, result, startedAt } of reports) {
      const message = this.outbox.message(seq);
      if (!message || message.delivery_id !== deliveryId) continue;
      const verdict = judgeAttempt(result, attempt, this.config.retryScheduleSeconds, now);
      const { statusCode, error } = describeResult(result);
      this.outbox.recordAttempt(seq, now, statusCode, error, attempt);
      const outcome = verdict.kind === 'retry' ? 'retrying' : verdict.kind;
      const at = Math.min(startedAt ?? now, now);
      this.outbox.ledger({ message, attempt, at, statusCode, error, latencyMs: result.latencyMs, outcome });
      const row = this.outbox.outboxRow(seq);
      if (row?.state !== 'queued' || row.attempt !== attempt) continue; // a duplicate or withdrawn since
      switch (verdict.kind) {
        case 'delivered':
        case 'failed':
          this.outbox.finish(seq, verdict.kind, now);
          this.afterFinish(message, now, releases);
          this.releaseLane(row.lane, now, releases);
          break;
        case 'retry':
          this.outbox.markWaiting(seq, attempt + 1, now + verdict.delayMs);
          wake = Math.min(wake, now + verdict.delayMs);
          this.releaseLane(row.lane, now, releases); // a zero delay goes now
          break;
        case 'gone':
          this.state.setWebhookValid(message.webhook_id, false);
          this.outbox.markWaiting(seq, attempt + 1, now);
          gone.add(message.webhook_id);
          break;
      }
    }
    const next: ClaimedRequest[] = [];
    if (options.chain) {
      for (const release of releases) {
        next.push(await this.signed(tenant, this.outbox.message(release.seq)!, release.attempt, now));
      }
      if (releases.length > 0) wake = Math.min(wake, now + this.config.deliveryLeaseMs);
    } else {
      await this.send(releases);
    }
    if (wake < Infinity) await this.wakeBy(wake);
    await this.recheckReplaySoon(now);
    return { goneWebhooks: [...gone], next };
  }

  /**
   * Starts a replay job for one webhook (docs/delivery.md, "Replay"). One job per webhook at a time; the
   * copies are spread out at `replayRatePerSecond` so live delivery keeps flowing beside them.
   */
  async startReplay(
    appId: string,
    job: { jobId: string; webhookId: string; from: number; to: number },
  ): Promise<{ ok: true; events: number } | { ok: false; reason: 'conflict' | 'not_found' }> {
    this.tenantFor(appId);
    const webhook = this.state.webhook(job.webhookId);
    if (!webhook || webhook.deleted_at !== null) return { ok: false, reason: 'not_found' };
    if (runningJob(this.ctx.storage.sql, job.webhookId)) return { ok: false, reason: 'conflict' };
    const now = Date.now();
    const { copies, lanes } = planReplay(this.ctx.storage.sql, this.outbox, this.state, {
      ...job,
      now,
      ratePerSecond: this.config.replayRatePerSecond,
    });
    const releases: Release[] = [];
    const statusLane = finishReplayIfDone(this.ctx.storage.sql, this.outbox, job.jobId, now);
    for (const lane of statusLane ? [statusLane] : lanes) this.releaseLane(lane, now, releases);
    await this.send(releases);
    // Later copies become due over time; the alarm releases them.
    if (copies > 0) await this.wakeBy(now + REPLAY_RECHECK_MS);
    return { ok: true, events: copies };
  }

  /** Releases due retries and replay copies, re-releases lost releases, and runs retention. */
  async alarm(): Promise<void> {
    const tenant = this.state.tenant();
    if (!tenant) return;
    const now = Date.now();
    const releases: Release[] = [];
    const lastPurge = this.outbox.meta('last_purge');
    if (lastPurge === null || now >= lastPurge + PURGE_INTERVAL_MS) {
      const expired = purgeExpired(this.ctx.storage.sql, this.outbox, now, this.config.retention);
      await this.dropAndAdvance(expired, 'payload retention ended before delivery', now);
    }
    const heads = this.outbox.dueHeads(now, SWEEP_LIMIT);
    for (const head of heads) this.releaseLane(head.lane, now, releases);
    const expired = this.outbox.expiredLeases(now - this.config.deliveryLeaseMs, SWEEP_LIMIT);
    for (const row of expired) {
      const message = this.outbox.message(row.seq)!;
      this.outbox.markQueued(row.seq, now);
      releases.push({ seq: row.seq, deliveryId: message.delivery_id, attempt: row.attempt });
    }
    await this.send(releases);
    // A full sweep means more is due: go again at once, unless what is left is replay copies held
    // back for room (then the recheck below paces it; going again at once would spin).
    const heldBack = this.replayRoom.at === now && this.replayRoom.heldBack;
    if ((heads.length === SWEEP_LIMIT && !heldBack) || expired.length === SWEEP_LIMIT) await this.ctx.storage.setAlarm(now);
    else await this.scheduleAlarm();
    await this.recheckReplaySoon(now);
  }

  // ---- ledger questions -------------------------------------------------------------------------

  async ledger(appId: string, filter: LedgerFilter) {
    this.tenantFor(appId);
    return this.ledgerQueries.entries(filter);
  }

  async userSummary(appId: string, userId: string) {
    this.tenantFor(appId);
    return this.ledgerQueries.userSummary(userId);
  }

  async sentIn(appId: string, from: number, to: number, afterId: number, limit: number) {
    this.tenantFor(appId);
    return this.ledgerQueries.sentIn(from, to, afterId, limit);
  }

  // ---- internals --------------------------------------------------------------------------------

  private entitlement(message: MessageRow, tenant: Tenant): Entitlement {
    if (tenant.status !== 'active') return 'withdrawn';
    const webhook = this.state.webhook(message.webhook_id);
    if (!webhook || webhook.deleted_at !== null) return 'withdrawn';
    if (message.kind === 'event' || message.kind === 'replay') {
      // The live subscription must be the one that covered the event when it was ingested.
      if (!this.state.subscribedSince(message.webhook_id, message.user_id, message.created_at)) return 'withdrawn';
      const scope = this.state.activeScope(message.user_id);
      if (!scope || !hasScope(scope, message.required_scope ?? '')) return 'withdrawn';
    }
    if (message.payload === null) return 'withdrawn';
    return webhook.valid === 1 ? 'send' : 'hold';
  }

  /**
   * Releases the lane's head if it is waiting and due: entitled ones go to the queue, held ones
   * stay, withdrawn ones are dropped and the next one is considered.
   */
  private releaseLane(lane: string, now: number, out: Release[]): void {
    const tenant = this.state.tenant()!;
    for (;;) {
      const head = this.outbox.laneHead(lane);
      if (head?.state !== 'waiting' || head.not_before > now) return;
      const message = this.outbox.message(head.seq)!;
      const entitlement = this.entitlement(message, tenant);
      if (entitlement === 'hold') return;
      if (entitlement === 'withdrawn') {
        this.drop(message, 'no longer entitled', now, out);
        continue;
      }
      if (message.kind === 'replay' && !this.takeReplayRoom(now)) return;
      this.outbox.markQueued(head.seq, now);
      out.push({ seq: head.seq, deliveryId: message.delivery_id, attempt: head.attempt });
      return;
    }
  }

  private takeReplayRoom(now: number): boolean {
    if (this.replayRoom.at !== now) this.replayRoom = { at: now, room: REPLAY_MAX_QUEUED - this.outbox.queuedCount(), heldBack: false };
    if (this.replayRoom.room <= 0) {
      this.replayRoom.heldBack = true;
      return false;
    }
    this.replayRoom.room--;
    return true;
  }

  /** If replay copies were held back in this call, look again soon. */
  private async recheckReplaySoon(now: number): Promise<void> {
    if (this.replayRoom.at === now && this.replayRoom.heldBack) await this.wakeBy(now + REPLAY_RECHECK_MS);
  }

  /** A finished replay copy may finish its job, whose status event is then released. */
  private afterFinish(message: MessageRow, now: number, releases: Release[]): void {
    if (!message.replay_job_id) return;
    const statusLane = finishReplayIfDone(this.ctx.storage.sql, this.outbox, message.replay_job_id, now);
    if (statusLane) this.releaseLane(statusLane, now, releases);
  }

  private drop(message: MessageRow, reason: string, at: number, releases?: Release[]): void {
    this.outbox.ledger({ message, attempt: message.attempts, at, statusCode: null, error: reason, latencyMs: null, outcome: 'dropped' });
    this.outbox.finish(message.seq, 'dropped', at);
    if (releases) this.afterFinish(message, at, releases);
  }

  /** Drops every undelivered message in a withdrawn scope (a user's withdrawal spares app-level messages). */
  private async dropWhere(filter: { webhookId?: string; userId?: string }, reason: string, at: number): Promise<void> {
    await this.dropAndAdvance(this.outbox.outboxWhere(filter), reason, at);
  }

  /** Drops messages, then lets each affected lane move on to whatever is still entitled in it. */
  private async dropAndAdvance(messages: (MessageRow & { lane: string })[], reason: string, at: number): Promise<void> {
    if (messages.length === 0) return;
    const releases: Release[] = [];
    const lanes = new Set<string>();
    for (const message of messages) {
      this.drop(message, reason, at, releases);
      lanes.add(message.lane);
    }
    for (const lane of lanes) this.releaseLane(lane, at, releases);
    await this.send(releases);
  }

  /** The request for one attempt, signed now. */
  private signed(tenant: Tenant, message: MessageRow, attempt: number, now: number): Promise<ClaimedRequest> {
    return this.signer.sign(tenant, message, this.state.webhook(message.webhook_id)!, attempt, now);
  }

  private queueMessage(appId: string, r: Release): DeliveryMessage {
    return { app: appId, seq: r.seq, id: r.deliveryId, attempt: r.attempt };
  }

  /** Puts releases on the queue (ids only) and makes sure the alarm covers their lease. */
  private async send(releases: Release[]): Promise<void> {
    if (releases.length === 0) return;
    const appId = this.state.tenant()!.appId;
    let wake = Date.now() + this.config.deliveryLeaseMs;
    for (let i = 0; i < releases.length; i += 100) {
      const chunk = releases.slice(i, i + 100);
      try {
        await this.env.DELIVERY_QUEUE.sendBatch(chunk.map((r) => ({ body: this.queueMessage(appId, r) })));
      } catch (err) {
        console.error(`app ${appId}: queue send failed; retrying ${chunk.length} releases`, err);
        const retryAt = Date.now() + REQUEUE_DELAY_MS;
        for (const r of chunk) this.outbox.markWaiting(r.seq, r.attempt, retryAt);
        wake = Math.min(wake, retryAt);
      }
    }
    await this.wakeBy(wake);
  }

  private nextPurgeAt(now: number): number {
    return (this.outbox.meta('last_purge') ?? now) + PURGE_INTERVAL_MS;
  }

  /** Full recomputation of the next wake-up, after an alarm pass. */
  private async scheduleAlarm(): Promise<void> {
    const now = Date.now();
    const next = this.outbox.nextWakeUp(now, this.config.deliveryLeaseMs);
    const hasHistory = this.outbox.meta('last_purge') !== null || next !== null;
    const purge = hasHistory ? this.nextPurgeAt(now) : Infinity;
    const at = Math.min(next ?? Infinity, purge);
    if (at < Infinity) await this.wakeBy(at);
  }

  /**
   * Makes sure the alarm fires no later than `at`. Hot paths call this with what they just did (a
   * release's lease end, a retry's time) instead of scanning the outbox; the alarm handler then
   * recomputes exactly.
   */
  private async wakeBy(at: number): Promise<void> {
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }
}

/** The one way to reach an app's object: by app id, never by anything about its webhooks. */
export const appObject = (env: Env, appId: string) => env.APP_DELIVERY.get(env.APP_DELIVERY.idFromName(`app:${appId}`));
