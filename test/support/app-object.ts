import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { onTestFinished, vi } from 'vitest';
import { deliverySettings } from '../../src/app-object/app-delivery-object';
import type { ObjectPorts } from '../../src/app-object/ports';
import { AppStore } from '../../src/app-object/storage/app-store';
import { replayLane } from '../../src/app-object/storage/outbox-store';
import { TenantDelivery } from '../../src/app-object/tenant-delivery';
import { appObject } from '../../src/delivery/app-objects';
import type { DeliveryMessage } from '../../src/domain/delivery-protocol';
import worker from '../../src/index';

/**
 * Typed access to an app object's storage for tests, through the same storage boundary the object
 * uses (AppStore over its SQLite), instead of reaching into the object's private fields.
 */
export function withStore<T>(appId: string, fn: (store: AppStore, state: DurableObjectState) => T | Promise<T>): Promise<T> {
  return runInDurableObject(appObject(env, appId), (_object, state) => fn(new AppStore(state.storage.sql), state));
}

/** Rows of one of the object's tables, for assertions. */
export function objectRows<T = Record<string, unknown>>(appId: string, sql: string, ...args: (string | number)[]): Promise<T[]> {
  return runInDurableObject(appObject(env, appId), (_object, state) => state.storage.sql.exec(sql, ...args).toArray() as T[]);
}

/**
 * Puts a message straight into the object's outbox as released, without sending it to the live
 * queue, so a test alone decides what a consumer is handed. Returns the queue message naming it.
 */
export function stageRelease(
  appId: string,
  message: {
    webhookId: string;
    userId: string;
    payload?: string;
    createdAt?: number;
    deliveryId?: string;
    releasedAt?: number;
    /** Stages a copy of this replay job, in the job's lane for the user, instead of a live event. */
    replayJobId?: string;
    /** Leaves it waiting in its lane (behind the lane's head) instead of releasing it; its release is 0. */
    waiting?: boolean;
  },
): Promise<DeliveryMessage> {
  return withStore(appId, (store) => {
    const deliveryId = message.deliveryId ?? `msg_test${Math.random().toString(36).slice(2)}_${message.webhookId}_${message.userId}`;
    const job = message.replayJobId;
    const seq = store.outbox.append({
      deliveryId,
      kind: job ? 'replay' : 'event',
      ...(job ? { replayJobId: job, lane: replayLane(message.webhookId, message.userId, job) } : {}),
      eventId: `e${Math.random().toString(36).slice(2)}`,
      eventType: 'tweet_create',
      requiredScope: 'tweet.read',
      webhookId: message.webhookId,
      userId: message.userId,
      payload: message.payload ?? JSON.stringify({ for_user_id: message.userId }),
      createdAt: message.createdAt ?? Date.now(),
    });
    const release = message.waiting ? 0 : store.outbox.markReleased(seq, message.releasedAt ?? Date.now());
    return { app: appId, seq, deliveryId, attempt: 1, release, webhook: message.webhookId };
  });
}

/**
 * Holds the delivery queue's consumer: batches the queue hands over wait, unclaimed, until the returned
 * function is called (the queue consumes at once, so a test that acts on messages "already on the
 * queue" must keep them there). Everything else runs as usual.
 */
export function holdDeliveries(): () => void {
  let release = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const original = worker.queue.bind(worker);
  const spy = vi.spyOn(worker, 'queue').mockImplementation(async (batch: MessageBatch<unknown>, queueEnv: Env) => {
    await gate;
    return original(batch, queueEnv);
  });
  const releaseAll = () => {
    release();
    spy.mockRestore();
  };
  // A test that fails before releasing must not leave the consumer held for the tests after it.
  onTestFinished(releaseAll);
  return releaseAll;
}

/**
 * The object's delivery logic over `store` on a fixed clock, with its alarm and wake-ups recorded and
 * nothing sent or signed: for asserting what one step decides, with no time passing under it.
 */
export function deliveryAt(store: AppStore, now: number) {
  const wakeBy = vi.fn(async (_at: number) => {});
  const setAlarm = vi.fn(async (_at: number | null) => {});
  const ports: ObjectPorts = {
    now: () => now,
    enqueue: async () => {},
    wakeBy,
    setAlarm,
    sign: async () => {
      throw new Error('nothing is signed here');
    },
    every: () => () => {},
  };
  return { delivery: new TenantDelivery(store, ports, deliverySettings(env)), wakeBy, setAlarm };
}
