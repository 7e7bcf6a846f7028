import type { TimedActivity } from '../domain/activities';
import type { ClaimResult, DeliveryMessage, DeliveryPath, HandOut } from '../domain/delivery-protocol';
import { ingestAaaEvent } from './aaa-delivery';
import { Lanes, REPLAY_RECHECK_MS, type Release } from './lanes';
import type { DeliverySettings, ObjectPorts } from './ports';
import type { AppStore } from './storage/app-store';
import type { MessageRow, OutboxRow } from './storage/outbox-store';
import type { Tenant } from './storage/tenant-store';
import { StreamHub } from './stream-hub';
import { XaaDelivery } from './xaa-delivery';

/** A release that could not be put on the queue is tried again after this. */
const REQUEUE_DELAY_MS = 5_000;

export const deliveryIdFor = (eventId: string, webhookId: string, userId: string) => `msg_${eventId}_${webhookId}_${userId || 'app'}`;

/**
 * One app's delivery, inside its object (docs/delivery.md): messages enter lanes at ingest, a lane's
 * head is released to the queue, handed out to a consumer when it claims it, and finished, retried
 * or dropped when the outcome is reported. Every attempt is on the ledger before its request leaves
 * this object, and a hand-out must start before its deadline or not at all, which is what lets a
 * withdrawal fence off everything in its scope. All I/O goes through `ports`, so the deterministic
 * simulator runs this very code.
 */
export class TenantDelivery {
  readonly lanes: Lanes;
  /** The X Activity API's share of ingest (xaa-delivery.ts). */
  readonly xaa: XaaDelivery;
  /** The app's open XAA streams (stream-hub.ts). */
  readonly streams: StreamHub;

  constructor(
    readonly store: AppStore,
    readonly ports: ObjectPorts,
    readonly settings: DeliverySettings,
  ) {
    this.lanes = new Lanes(store);
    this.xaa = new XaaDelivery(this);
    this.streams = new StreamHub(store, this.lanes, { now: ports.now, every: ports.every }, settings.stream);
  }

  /** Throws unless this object was provisioned for `appId`: a routing mix-up fails loudly. */
  tenantFor(appId: string): Tenant {
    const tenant = this.store.tenant.get();
    if (!tenant) throw new Error(`app object refused a call for app ${appId}: it is not provisioned`);
    if (tenant.appId !== appId) throw new Error(`app object of app ${tenant.appId} refused a call for app ${appId}`);
    return tenant;
  }

  /**
   * Takes events routed here by the Worker. Audience and scope are derived again here, and a message
   * is appended only where this object's own mirror entitles it: Account Activity's per (webhook,
   * user), then the X Activity API's per subscription (xaa-delivery.ts). Idempotent per event id.
   * Returns the lane heads it released, for the Worker to put on the queue with other apps' releases.
   */
  ingest(appId: string, events: { eventId: string; activity: TimedActivity }[]): { messages: number; releases: DeliveryMessage[][] } {
    const tenant = this.tenantFor(appId);
    if (tenant.status !== 'active') return { messages: 0, releases: [[], []] };
    const { outbox } = this.store;
    const now = this.ports.now();
    const out: Release[] = [];
    let messages = 0;
    for (const { eventId, activity } of events) {
      if (!outbox.recordEvent(eventId, activity.id, activity.type, activity.created_at, now)) continue;
      messages += ingestAaaEvent(this, eventId, activity, now, out);
      messages += this.xaa.ingestEvent(eventId, activity, now, out);
    }
    const byPath = this.byPath(appId, out);
    return { messages, releases: [byPath.fast, byPath.slow] };
  }

  /**
   * The consumer claims released messages when it has free connections. Withdrawn ones are dropped
   * here; up to `capacity` live ones are written to the ledger and handed out, signed now, with a
   * start deadline; the rest stay released (`deferred`) for the consumer to claim when it has room.
   * `pull` is the path the consumer serves: messages of webhooks now on the other path are released
   * again on theirs, and other released work on this path fills the claim up to `capacity`.
   */
  async claim(appId: string, items: DeliveryMessage[], capacity: number, pull?: DeliveryPath): Promise<ClaimResult> {
    const { shard } = this.tenantFor(appId).placement;
    const { outbox } = this.store;
    const now = this.ports.now();
    const out: Release[] = [];
    const candidates: OutboxRow[] = [];
    const deferred: number[] = [];
    const seen = new Set<number>();
    for (const item of items) {
      if (seen.has(item.seq) || (item.shard ?? 0) !== shard) continue; // another shard's seq means another message here
      seen.add(item.seq);
      const row = outbox.outboxRow(item.seq);
      const message = outbox.message(item.seq);
      const current =
        row?.state === 'released' &&
        row.release === item.release &&
        row.attempt === item.attempt &&
        message?.delivery_id === item.deliveryId;
      if (!current) continue; // superseded by a later release, handed out already, finished or withdrawn
      if (!this.sendable(row, message, now, out)) continue;
      if (pull && this.store.webhooks.pathOf(row.webhook_id) !== pull) {
        // Queued before its webhook changed path (it turned slow): released again on its path now, so
        // a hanging webhook's backlog already on the fast queue never takes a fast invocation's connections.
        outbox.markWaiting(row.seq, row.attempt, now);
        this.lanes.releaseLane(row.lane, now, out);
      } else if (candidates.length < capacity) {
        candidates.push(row);
      } else {
        deferred.push(row.seq);
      }
    }
    if (pull) this.pullReleased(candidates, capacity, pull, seen, now, out);
    const handOuts = await this.handOut(candidates);
    await this.send(out);
    return { handOuts, deferred };
  }

  /**
   * Fills `into` up to `capacity` with other released lane heads of webhooks on `path`, oldest
   * release first, so one call hands out several of the app's deliveries (docs/scaling.md). Their
   * queue messages find nothing left to claim. The rule is asked again for each, like any claim.
   */
  pullReleased(into: OutboxRow[], capacity: number, path: DeliveryPath, skip: Set<number>, now: number, out: Release[]): void {
    const want = capacity - into.length;
    if (want <= 0) return;
    const { outbox, outboxScans, webhooks } = this.store;
    for (const row of outboxScans.releasedRows(2 * want + skip.size)) {
      if (into.length >= capacity) return;
      if (skip.has(row.seq) || webhooks.pathOf(row.webhook_id) !== path) continue;
      skip.add(row.seq);
      if (this.sendable(row, outbox.message(row.seq)!, now, out)) into.push(row);
    }
  }

  /**
   * The entitlement rule on a released message about to be handed out: a withdrawn one is dropped
   * (its lane moves on), one whose webhook is invalid is held; true only if it may be sent.
   */
  private sendable(row: OutboxRow, message: MessageRow, now: number, out: Release[]): boolean {
    const entitlement = this.lanes.entitlement(message, now);
    if (entitlement === 'withdrawn') {
      this.lanes.drop(message, 'no longer entitled', now, out);
      this.lanes.releaseLane(row.lane, now, out);
    } else if (entitlement === 'hold') {
      this.store.outbox.markHeld(row.seq);
    }
    return entitlement === 'send';
  }

  /**
   * Signs the candidates (which yields), then, without yielding again, checks each is still the same
   * release and still entitled (a withdrawal may have run meanwhile), writes its attempt to the
   * ledger and only then hands it out.
   */
  async handOut(candidates: OutboxRow[]): Promise<HandOut[]> {
    if (candidates.length === 0) return [];
    const { outbox, webhooks, ledger } = this.store;
    const tenant = this.store.tenant.get()!;
    const signedAt = this.ports.now();
    const signed = await Promise.all(
      candidates.map((row) => this.ports.sign(tenant, outbox.message(row.seq)!, webhooks.get(row.webhook_id)!, signedAt)),
    );
    const at = this.ports.now();
    const handOuts: HandOut[] = [];
    candidates.forEach((expected, i) => {
      const row = outbox.outboxRow(expected.seq);
      const message = outbox.message(expected.seq);
      if (row?.state !== 'released' || row.release !== expected.release || !message) return;
      if (this.lanes.entitlement(message, at) !== 'send') return; // a withdrawal or invalidation ran while signing
      const startBy = at + this.settings.handOutStartWindowMs;
      const handOutId = ledger.recordHandOut({ message, attempt: row.attempt, at, url: signed[i].url, startBy });
      outbox.markHanded(row.seq, handOutId, startBy);
      handOuts.push({
        seq: row.seq,
        deliveryId: message.delivery_id,
        attempt: row.attempt,
        handOutId,
        webhookId: message.webhook_id,
        ...signed[i],
        startBy,
        startWithinMs: this.settings.handOutStartWindowMs,
      });
    });
    return handOuts;
  }

  handOutLeaseMs(): number {
    return this.settings.deliveryTimeoutMs + this.settings.reportGraceMs;
  }

  /** Queue messages for releases, split by the path each webhook's health puts it on. */
  byPath(appId: string, releases: Release[]): Record<DeliveryPath, DeliveryMessage[]> {
    const paths: Record<DeliveryPath, DeliveryMessage[]> = { fast: [], slow: [] };
    const { shard } = this.tenantFor(appId).placement;
    for (const r of releases) {
      const path = this.store.webhooks.pathOf(r.webhookId);
      const message = { app: appId, seq: r.seq, deliveryId: r.deliveryId, attempt: r.attempt, release: r.release, webhook: r.webhookId };
      paths[path].push(shard === 0 ? message : { ...message, shard });
    }
    return paths;
  }

  /**
   * Puts releases on the queue (ids only) and makes sure the alarm covers their lease, and comes
   * back shortly for replay copies this call held back for room.
   */
  async send(releases: Release[]): Promise<void> {
    const now = this.ports.now();
    let wake = this.lanes.takeRecheck() ? now + REPLAY_RECHECK_MS : Number.POSITIVE_INFINITY;
    // A replay part that just finished reports to shard 0 from the alarm (a call out of the object
    // that a failure must not lose), due at once.
    if (this.lanes.takePartReport()) wake = now;
    if (releases.length === 0) {
      if (wake < Number.POSITIVE_INFINITY) await this.ports.wakeBy(wake);
      return;
    }
    const appId = this.store.tenant.get()!.appId;
    wake = Math.min(wake, now + this.settings.releaseLeaseMs);
    for (const [path, messages] of Object.entries(this.byPath(appId, releases)) as [DeliveryPath, DeliveryMessage[]][]) {
      if (messages.length === 0) continue;
      try {
        await this.ports.enqueue(messages, path);
      } catch (err) {
        console.error(`app ${appId}: queue send failed; ${messages.length} releases go again shortly`, err);
        const retryAt = this.ports.now() + REQUEUE_DELAY_MS;
        for (const m of messages) {
          const row = this.store.outbox.outboxRow(m.seq);
          if (row?.state === 'released' && row.release === m.release) this.store.outbox.markWaiting(m.seq, m.attempt, retryAt);
        }
        wake = Math.min(wake, retryAt);
      }
    }
    await this.ports.wakeBy(wake);
  }
}
