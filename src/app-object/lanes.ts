import { type Entitlement, entitlementAt } from '../domain/entitlement';
import { finishReplayIfDone, type ReplayFinish } from './replay';
import type { AppStore } from './storage/app-store';
import { laneOf, type MessageRow, type NewMessage, type ScopedMessage, scopeOfMessage } from './storage/outbox-store';

/**
 * Replay copies are released only while fewer than this many of this app's messages are in flight,
 * so a replay never builds an unbounded queue backlog. Live deliveries do not wait behind the copies
 * in flight: a claim or report hands out live ones first (reports.ts, OutboxScans.releasedRows).
 * Held-back copies are looked at again shortly. Measured (docs/testing.md): 200 held one replay to
 * about 400 copies/s, 1,000 let it reach about 510/s with live traffic beside it at p99 355 ms.
 */
export const REPLAY_MAX_IN_FLIGHT = 1000;
/** While replay copies wait for room, the object looks at them again this soon. */
export const REPLAY_RECHECK_MS = 250;

/** One release of a lane head, collected during a call and put on the queue at its end. */
export interface Release {
  seq: number;
  deliveryId: string;
  attempt: number;
  release: number;
  webhookId: string;
  /** A replay copy: live deliveries go before it when a report chooses what to hand out next. */
  replay?: boolean;
}

/**
 * What a lane is and how it moves (docs/delivery.md, "Lanes"): only a lane's head is ever released;
 * a head whose webhook is invalid is held; a head whose scope was withdrawn is dropped (on the
 * record) and the next one is considered. Runs inside the app's object, synchronously.
 */
export class Lanes {
  /** Room for replay releases, counted once per call (`at` is the call's clock). */
  private replayRoom = { at: -1, room: 0 };
  /** A replay copy was held back for room since the object last made sure it will look again. */
  private recheckOwed = false;
  private partReportOwed = false;

  constructor(private readonly store: AppStore) {}

  /** The entitlement rule, asked about one stored message at `now`; an expired payload cannot go either. */
  entitlement(message: MessageRow, now: number): Entitlement['kind'] {
    if (message.payload === null) return 'withdrawn';
    return entitlementAt(this.store.mirror.view(), scopeOfMessage(message), now).kind;
  }

  /** Releases the lane's head if it is waiting and due. `head`: the head, if the caller has just read it. */
  releaseLane(lane: string, now: number, out: Release[], head = this.store.outbox.laneHead(lane)): void {
    const { outbox } = this.store;
    for (; ; head = outbox.laneHead(lane)) {
      if (!head || head.state !== 'waiting' || head.not_before > now) return;
      const message = outbox.message(head.seq)!;
      const entitlement = this.entitlement(message, now);
      if (entitlement === 'hold') {
        outbox.markHeld(head.seq);
        return;
      }
      if (entitlement === 'withdrawn') {
        this.drop(message, 'no longer entitled', now, out);
        continue;
      }
      if (message.kind === 'replay' && !this.takeReplayRoom(now)) return;
      const release = outbox.markReleased(head.seq, now);
      out.push(releaseOf(head.seq, head.attempt, release, message.delivery_id, message.webhook_id, message.kind === 'replay'));
      return;
    }
  }

  /**
   * Appends a live message at ingest. One the rule lets go now (`sendable`) into an empty lane is
   * written released, in one write instead of an append and a release; otherwise the lane moves as
   * after any change (a due head ahead of it goes, a held webhook's head is held). The head is read
   * once and handed on, so no case costs more statements than an append and a release did.
   */
  appendLive(m: NewMessage, sendable: boolean, now: number, out: Release[]): void {
    const { outbox } = this.store;
    const lane = laneOf(m);
    const head = outbox.laneHead(lane);
    if (sendable && !head && (m.notBefore ?? now) <= now) {
      const row = outbox.appendReleased(m, now);
      out.push(releaseOf(row.seq, row.attempt, row.release, m.deliveryId, m.webhookId, false));
      return;
    }
    const seq = outbox.append(m);
    // A head already released, handed out or held stays as it is: only a waiting one (or the new one) may move.
    if (!head || head.state === 'waiting') this.releaseLane(lane, now, out, head ?? outbox.outboxRow(seq));
  }

  /** Ends a message without a request (withdrawn or expired), on the record; its lane moves on. */
  drop(message: MessageRow, reason: string, at: number, out: Release[]): void {
    this.store.ledger.recordDrop(message, message.attempts, at, reason);
    this.store.outbox.finish(message.seq, 'dropped', at);
    this.afterFinish(message, at, out);
  }

  /** Drops every message of a withdrawn scope, then lets each affected lane move on to whatever is still entitled in it. */
  dropAndAdvance(messages: ScopedMessage[], reason: string, at: number, out: Release[]): void {
    const lanes = new Set<string>();
    for (const message of messages) {
      this.drop(message, reason, at, out);
      lanes.add(message.lane);
    }
    for (const lane of lanes) this.releaseLane(lane, at, out);
  }

  /** A finished replay copy may finish its job, whose status event is then released. */
  afterFinish(message: MessageRow, now: number, out: Release[]): void {
    if (!message.replay_job_id) return;
    const placement = this.store.tenant.get()!.placement;
    this.settleReplay(finishReplayIfDone(this.store, message.replay_job_id, now, placement), now, out);
  }

  /** Releases a finished job's status event; a finished part of a sharded app's job owes shard 0 its counts. */
  settleReplay(finish: ReplayFinish, now: number, out: Release[]): void {
    if (finish.kind === 'status') this.releaseLane(finish.lane, now, out);
    else if (finish.kind === 'part_finished') this.partReportOwed = true;
  }

  /** Whether a replay part finished since the last time this was asked (and resets it): its counts go to shard 0 at once. */
  takePartReport(): boolean {
    const owed = this.partReportOwed;
    this.partReportOwed = false;
    return owed;
  }

  /**
   * Whether a replay copy was held back for room since the last time this was asked (and resets it):
   * whoever held it back (the alarm, or a report advancing its lane while the app's in-flight room was
   * full) must see that the object looks again shortly, or the copy waits for an unrelated wake-up.
   */
  takeRecheck(): boolean {
    const owed = this.recheckOwed;
    this.recheckOwed = false;
    return owed;
  }

  private takeReplayRoom(now: number): boolean {
    if (this.replayRoom.at !== now) {
      this.replayRoom = { at: now, room: REPLAY_MAX_IN_FLIGHT - this.store.outboxScans.inFlightCount() };
    }
    if (this.replayRoom.room <= 0) {
      this.recheckOwed = true;
      return false;
    }
    this.replayRoom.room--;
    return true;
  }
}

/** A release as the queue message carries it. */
const releaseOf = (seq: number, attempt: number, release: number, deliveryId: string, webhookId: string, replay: boolean): Release => ({
  seq,
  deliveryId,
  attempt,
  release,
  webhookId,
  replay,
});
