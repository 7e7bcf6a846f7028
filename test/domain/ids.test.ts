import { describe, expect, it } from 'vitest';
import { idGenerator, newId, RESERVED_NODES } from '../../src/domain/ids';

describe('newId', () => {
  it('ids from one isolate increase, within one millisecond too', () => {
    const now = Date.UTC(2026, 0, 1);
    const ids = [newId(now - 1), ...Array.from({ length: 500 }, () => newId(now)), newId(now + 1)].map(BigInt);
    for (let i = 1; i < ids.length; i++) expect(ids[i] > ids[i - 1], `id ${i}`).toBe(true);
  });

  it('an isolate never draws a node the activity-id objects mint with', () => {
    const nodes = Array.from({ length: 2_000 }, () => Number((BigInt(idGenerator()(Date.UTC(2026, 0, 1))) >> 12n) & 0x3ffn));
    expect(Math.min(...nodes)).toBeGreaterThanOrEqual(RESERVED_NODES);
    expect(Math.max(...nodes)).toBeLessThan(1024);
    // The draw covers the rest of the range, not a few values of it.
    expect(new Set(nodes).size).toBeGreaterThan(600);
  });

  it('are decimal strings of at most 19 digits that fit a signed 64-bit integer', () => {
    const id = newId(Date.UTC(2089, 0, 1));
    expect(id).toMatch(/^[0-9]{1,19}$/);
    expect(BigInt(id) < 2n ** 63n).toBe(true);
  });
});
