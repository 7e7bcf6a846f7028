/**
 * Snowflake-like ids: 41 bits of milliseconds since 2020-01-01, then 22 bits of per-isolate sequence
 * and randomness. Decimal strings of at most 19 digits that sort by creation time (docs/api.md, "Ids").
 */
const EPOCH_MS = 1_577_836_800_000n;

let lastMs = 0n;
let sequence = 0n;

export function newId(nowMs: number = Date.now()): string {
  const ms = BigInt(Math.floor(nowMs)) - EPOCH_MS;
  if (ms === lastMs) {
    sequence = (sequence + 1n) & 0xfffn;
  } else {
    lastMs = ms;
    sequence = 0n;
  }
  // 12 bits of sequence above 10 random bits: ids from one isolate increase within a millisecond, and
  // the random bits keep ids from two isolates in the same millisecond apart.
  const random = BigInt(crypto.getRandomValues(new Uint16Array(1))[0] & 0x3ff);
  return ((ms << 22n) | (sequence << 10n) | random).toString();
}
