import { describe, expect, it } from 'vitest';
import { crcRequestSignature, crcResponseToken, validityAfterCrc } from '../../src/domain/crc';

describe('CRC test vector (docs/delivery.md)', () => {
  it('computes the response token', async () => {
    expect(await crcResponseToken('s3cr3t-consumer', 'foo')).toBe('sha256=n2LDLkhRHvSOWkFvQik5QAs4Vdnbv5cOM0yeXv7wCDw=');
  });
  it('computes the request signature over crc_token and nonce', async () => {
    expect(await crcRequestSignature('s3cr3t-consumer', 'foo', 'bar')).toBe('sha256=okIlazVEiRKAiD0JD8q7ZxuKKVUULsg2x65XR1xRd5k=');
  });
});

describe('validityAfterCrc', () => {
  const H = 3_600_000;
  const base = { valid: true, lastCrcSuccessAt: 0, createdAt: 0 };
  it('a success validates and records the time', () => {
    expect(validityAfterCrc({ ...base, valid: false }, { kind: 'ok' }, 30 * H, 28 * H)).toEqual({
      valid: true,
      lastCrcSuccessAt: 30 * H,
    });
  });
  it('a hard failure invalidates at once', () => {
    expect(validityAfterCrc(base, { kind: 'hard', reason: 'x' }, 1, 28 * H).valid).toBe(false);
  });
  it('a transient failure keeps the webhook valid until 28 h without a success', () => {
    expect(validityAfterCrc(base, { kind: 'transient', reason: 'x' }, 27.9 * H, 28 * H).valid).toBe(true);
    expect(validityAfterCrc(base, { kind: 'transient', reason: 'x' }, 28 * H, 28 * H).valid).toBe(false);
  });
  it('a transient failure never revalidates an invalid webhook', () => {
    expect(validityAfterCrc({ ...base, valid: false }, { kind: 'transient', reason: 'x' }, 1, 28 * H).valid).toBe(false);
  });
  it('falls back to the creation time when there was never a success', () => {
    const fresh = { valid: true, lastCrcSuccessAt: null, createdAt: 10 * H };
    expect(validityAfterCrc(fresh, { kind: 'transient', reason: 'x' }, 37 * H, 28 * H).valid).toBe(true);
    expect(validityAfterCrc(fresh, { kind: 'transient', reason: 'x' }, 38 * H, 28 * H).valid).toBe(false);
  });
});
