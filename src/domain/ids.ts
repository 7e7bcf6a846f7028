/**
 * Snowflake-like ids: 41 bits of milliseconds since 2020-01-01, 10 bits naming the isolate that made
 * the id (random at start, from RESERVED_NODES up), 12 bits of sequence within the millisecond. Decimal strings of at most 19
 * digits that sort by creation time (docs/api.md, "Ids"). Two isolates collide only if they drew the
 * same 10 bits and made an id in the same millisecond at the same sequence; every table keyed by
 * these ids has a unique constraint, and the writers that make many of them (ingest) draw again on a
 * conflict.
 */
const EPOCH_MS = 1_577_836_800_000n;

/**
 * Node numbers below this are never drawn by an isolate: they name the activity-id objects
 * (`FAN_OUT_INDEX=objects`, src/fan-out-index/activity-keys-object.ts), which mint event ids with their
 * shard number as the node. Ids of one object never collide (one object, one sequence); ids of two
 * objects differ in the node; and no isolate's id can equal one of theirs.
 */
export const RESERVED_NODES = 64;

export function idGenerator(node?: number) {
  let lastMs = 0n;
  let sequence = 0n;
  // Drawn on first use: Workers allow no random values at global scope.
  let nodeBits: bigint | null = node === undefined ? null : BigInt(node & 0x3ff) << 12n;
  return (nowMs: number = Date.now()): string => {
    nodeBits ??= BigInt(RESERVED_NODES + (crypto.getRandomValues(new Uint16Array(1))[0] % (1024 - RESERVED_NODES))) << 12n;
    let ms = BigInt(Math.floor(nowMs)) - EPOCH_MS;
    if (ms < lastMs) ms = lastMs; // a clock step back never reuses an id
    if (ms === lastMs) {
      sequence = (sequence + 1n) & 0xfffn;
      if (sequence === 0n) ms = lastMs + 1n; // 4,096 ids in one millisecond: borrow the next
    } else {
      sequence = 0n;
    }
    lastMs = ms;
    return ((ms << 22n) | nodeBits | sequence).toString();
  };
}

export const newId = idGenerator();
