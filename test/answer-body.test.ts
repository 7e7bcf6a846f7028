import { describe, expect, it } from 'vitest';
import { ANSWER_BODY_LIMIT_BYTES, discardAnswerBody } from '../src/delivery/answer-body';

/** A body of `chunks` chunks of `size` bytes that records how far it was read and whether it was cancelled. */
function trackedBody(chunks: number, size: number, headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (seen.pulled === chunks) return controller.close();
        seen.pulled++;
        controller.enqueue(new Uint8Array(size));
      },
      cancel() {
        seen.cancelled = true;
      },
      // Nothing is pulled until someone reads.
    },
    { highWaterMark: 0 },
  );
  return { response: new Response(stream, { status: 200, headers }), seen };
}

const noTimeout = () => new AbortController().signal;

describe('the answer body of a delivery', () => {
  it('is read to its end when small, so the connection can be used again', async () => {
    const { response, seen } = trackedBody(3, 1_000);
    await discardAnswerBody(response, noTimeout());
    expect(seen).toEqual({ pulled: 3, cancelled: false });
    expect(response.bodyUsed).toBe(true);
  });

  it('is read up to the limit and then cancelled when it goes on', async () => {
    const chunk = 16 * 1024;
    const { response, seen } = trackedBody(1_000, chunk);
    await discardAnswerBody(response, noTimeout());
    expect(seen.cancelled).toBe(true);
    // One chunk past the limit is read, no more.
    expect(seen.pulled * chunk).toBeLessThanOrEqual(ANSWER_BODY_LIMIT_BYTES + 2 * chunk);
  });

  it('is cancelled unread when it declares a length over the limit', async () => {
    const { response, seen } = trackedBody(1, 10, { 'content-length': String(ANSWER_BODY_LIMIT_BYTES + 1) });
    await discardAnswerBody(response, noTimeout());
    expect(seen).toEqual({ pulled: 0, cancelled: true });
  });

  it('is cancelled when the attempt times out while it still trickles in', async () => {
    let cancelled = false;
    const never = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(10));
      },
      cancel() {
        cancelled = true;
      },
    });
    const timeout = new AbortController();
    const started = Date.now();
    const done = discardAnswerBody(new Response(never), timeout.signal);
    setTimeout(() => timeout.abort(new DOMException('timed out', 'TimeoutError')), 50);
    await done;
    expect(cancelled).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('never throws, whatever the body does', async () => {
    const broken = new ReadableStream<Uint8Array>({
      pull(controller) {
        controller.error(new Error('connection reset'));
      },
    });
    await expect(discardAnswerBody(new Response(broken), noTimeout())).resolves.toBeUndefined();
    await expect(discardAnswerBody(new Response(null, { status: 204 }), noTimeout())).resolves.toBeUndefined();
    const aborted = AbortSignal.abort();
    const { response, seen } = trackedBody(2, 10);
    await discardAnswerBody(response, aborted);
    expect(seen.cancelled).toBe(true);
  });
});
