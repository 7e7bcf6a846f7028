import { z } from 'zod';
import { ApiError } from '../errors';
import { AppDelivery } from './app-objects';

/** How far back a stream may start: X's backfill limit. */
export const MAX_BACKFILL_MINUTES = 5;

const dateTime = (name: string) =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/, `${name} must be a date-time: YYYY-MM-DDTHH:mm:ssZ`)
    .transform((value) => Date.parse(value));

/** `backfill_minutes` (0-5), or `start_time` within the last five minutes; `end_time` after the start. */
export const streamQuerySchema = z
  .object({
    backfill_minutes: z.coerce
      .number({ error: 'backfill_minutes must be an integer from 0 to 5' })
      .int('backfill_minutes must be an integer from 0 to 5')
      .min(0, 'backfill_minutes must be an integer from 0 to 5')
      .max(MAX_BACKFILL_MINUTES, 'backfill_minutes must be an integer from 0 to 5')
      .optional(),
    start_time: dateTime('start_time').optional(),
    end_time: dateTime('end_time').optional(),
  })
  .superRefine((q, ctx) => {
    const now = Date.now();
    if (q.backfill_minutes !== undefined && q.start_time !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['start_time'], message: 'give backfill_minutes or start_time, not both' });
    }
    if (q.start_time !== undefined && (q.start_time < now - MAX_BACKFILL_MINUTES * 60_000 || q.start_time > now)) {
      ctx.addIssue({ code: 'custom', path: ['start_time'], message: 'start_time must lie within the last 5 minutes' });
    }
    if (q.end_time !== undefined && q.end_time <= (q.start_time ?? now)) {
      ctx.addIssue({ code: 'custom', path: ['end_time'], message: 'end_time must be after start_time (or now)' });
    }
  });

/**
 * Opens the app's stream at its object and answers with it: newline-delimited JSON, one envelope per
 * line (`\r\n`), keep-alive lines while idle. Too many open connections is X's 429. The object's
 * stream is piped through here so that a client that went away is noticed (by the next line or
 * keep-alive at the latest) and its connection closed in the object.
 */
export async function openXaaStream(
  env: Env,
  appId: string,
  q: z.output<typeof streamQuerySchema>,
  options: { maxConnections: number; waitUntil: (promise: Promise<unknown>) => void },
): Promise<Response> {
  const now = Date.now();
  const from = q.backfill_minutes !== undefined ? now - q.backfill_minutes * 60_000 : (q.start_time ?? null);
  const delivery = await AppDelivery.load(env, appId);
  // A sharded app's stream is one connection to each shard (src/domain/shards.ts), merged line by line.
  // A shard that refused or failed leaves the others' connections to be closed here, or they would
  // hold the app's connection slots.
  type Opened = { id: string; stream: ReadableStream<Uint8Array> } | { refused: 'not_active' | 'too_many_connections' };
  const attempts = await delivery.every((object) =>
    object.openStream(appId, { from, endAt: q.end_time ?? null }).then(
      (opened: Opened) => ({ opened }),
      (error: unknown) => ({ error }),
    ),
  );
  const sources = attempts.flatMap((attempt, shard) =>
    'opened' in attempt && !('refused' in attempt.opened)
      ? [{ id: attempt.opened.id, stream: attempt.opened.stream, object: delivery.shard(shard) }]
      : [],
  );
  if (sources.length < attempts.length) {
    for (const source of sources) {
      source.stream.cancel().catch(() => {});
      source.object.closeStream(appId, source.id).catch(() => {});
    }
  }
  const failure = attempts.find((attempt) => 'error' in attempt);
  if (failure && 'error' in failure) throw failure.error;
  const refusal = attempts.flatMap((attempt) => ('opened' in attempt && 'refused' in attempt.opened ? [attempt.opened] : []))[0];
  if (refusal) {
    if (refusal.refused === 'not_active') throw new ApiError('forbidden', 'app is not active', { reason: 'AppNotActive' });
    throw new ApiError('rate-limited', `this app already has ${options.maxConnections} open stream connections; close one first`, {
      reason: 'TooManyConnections',
      resource: { type: 'stream' },
      headers: { 'retry-after': '10' },
    });
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
  // However the pipe ends (the client went away, or the object ended the stream), the object forgets
  // the connection: an RPC stream's cancel does not reach the object by itself.
  const closeAll = () => Promise.all(sources.map((s) => s.object.closeStream(appId, s.id).catch(() => {})));
  if (sources.length === 1) {
    options.waitUntil(
      sources[0].stream
        .pipeTo(writable)
        .catch(() => {})
        .finally(closeAll),
    );
  } else {
    options.waitUntil(
      mergeLines(
        sources.map((s) => s.stream),
        writable,
      ).finally(closeAll),
    );
  }
  return new Response(readable, {
    status: 200,
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store, no-transform',
      // Cloudflare's edge (and wrangler dev, which imitates it) gzips application/json for clients that
      // accept it, buffering lines and keep-alives in the compressor: a declared encoding is left alone.
      'content-encoding': 'identity',
      'x-content-type-options': 'nosniff',
    },
  });
}

const NEWLINE = 0x0a;

/**
 * Writes whole lines from every source to `into` as they come, so that lines of different shards
 * never interleave within a line. Order holds per source (per user, whose lines all come from one
 * shard), not across sources. When any source ends or the client goes away, every source is
 * cancelled and the merged stream ends: the client reconnects, as after any disconnect.
 */
async function mergeLines(sources: ReadableStream<Uint8Array>[], into: WritableStream<Uint8Array>): Promise<void> {
  const writer = into.getWriter();
  const readers = sources.map((s) => s.getReader());
  const pump = async (reader: ReadableStreamDefaultReader<Uint8Array>) => {
    let pending = new Uint8Array(0);
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      const joined = new Uint8Array(pending.length + value.length);
      joined.set(pending);
      joined.set(value, pending.length);
      const end = joined.lastIndexOf(NEWLINE) + 1;
      if (end > 0) await writer.write(joined.subarray(0, end));
      pending = joined.slice(end);
    }
  };
  // The client going away errors the writable at once; a pump only notices at its next write.
  const clientGone = writer.closed.then(
    () => {},
    () => {},
  );
  try {
    await Promise.race([...readers.map(pump), clientGone]);
  } catch {
    // the client went away, or a shard's stream broke: end them all
  } finally {
    await Promise.all(readers.map((r) => r.cancel().catch(() => {})));
    await writer.close().catch(() => {});
  }
}
