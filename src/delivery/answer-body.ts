/** The most of a receiver's answer body a delivery reads before it gives up on reusing the connection. */
export const ANSWER_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Reads a receiver's answer body to its end and drops it, so the runtime can reuse the connection for
 * the next delivery to that receiver. Cancelling the body instead closes the connection: locally that
 * made every POST open a new one, 0.25 ms of CPU per request against 0.15–0.17 ms when read (docs/delivery.md,
 * "The receiver's answer body"); in production it would cost a TLS handshake per delivery.
 *
 * At most `limit` bytes are read: a body declared or found longer is cancelled. A body still arriving
 * when `signal` fires (the attempt timeout) is cancelled too. It never throws: the status has already
 * decided the attempt, and what the body does afterwards changes nothing.
 */
export async function discardAnswerBody(response: Response, signal: AbortSignal, limit = ANSWER_BODY_LIMIT_BYTES): Promise<void> {
  const body = response.body;
  if (!body) return;
  try {
    if (Number(response.headers.get('content-length') ?? 0) > limit || signal.aborted) {
      await body.cancel();
      return;
    }
    const reader = body.getReader();
    const cancel = () => void reader.cancel().catch(() => {});
    signal.addEventListener('abort', cancel, { once: true });
    try {
      for (let read = 0; ; ) {
        const { done, value } = await reader.read();
        if (done) return;
        read += value.byteLength;
        if (read > limit) {
          await reader.cancel();
          return;
        }
      }
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  } catch {
    // A body that breaks off is the receiver's business once it has answered.
  }
}
