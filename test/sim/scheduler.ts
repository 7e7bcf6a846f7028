/**
 * The deterministic core of the simulator: a seeded random source and a registry of things that
 * are waiting to happen. Every asynchronous step of the code under test (a signature, a queue send,
 * an RPC on its way in or out, a POST in flight, a timer) is a `Pending` here, and only the
 * simulator decides when, and whether, it completes. Nothing waits on real time or real I/O, so a
 * seed replays exactly.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** mulberry32: small, fast, good enough to pick interleavings. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }

  /** Picks a key by weight. */
  weighted<K extends string>(weights: Record<K, number>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      roll -= w;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1][0];
  }
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits any more (its caller was killed) must not crash the run.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

/** Node's, for the simulator only (the project's types are the Workers runtime's). */
declare const setImmediate: (callback: () => void) => unknown;

/** Lets every promise continuation triggered by the last step run to completion. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Thrown when an invariant breaks; the message names the invariant, the step and the seed. */
export class InvariantViolation extends Error {
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
    this.name = 'InvariantViolation';
  }
}
