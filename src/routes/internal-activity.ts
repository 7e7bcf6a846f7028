import { fanOut } from '../delivery/fan-out';
import { activitySchema, type TimedActivity } from '../domain/activities';
import { isAaa } from '../domain/audience';
import { renderPayload } from '../domain/payloads';
import { xaaEventsOf } from '../domain/xaa-events';
import { largestXaaEnvelopeBytes } from '../domain/xaa-payloads';
import { ApiError, type FieldError, invalid } from '../errors';
import { apiRouter, fieldErrors, parseJsonBody } from '../http/validation';
import { ingestActivity, MAX_BATCH } from './contracts/internal-activity';

/** A rendered payload must fit one Cloudflare Queue message (128 KB), whatever carries it. */
const MAX_PAYLOAD_BYTES = 128 * 1024;
const encoder = new TextEncoder();
/** One activity, or `{"activities":[…]}` with 1-100; any invalid element rejects the whole batch. */
function parseActivities(body: unknown, now: number): TimedActivity[] {
  const isBatch = typeof body === 'object' && body !== null && !Array.isArray(body) && 'activities' in body;
  const items = isBatch ? (body as { activities: unknown }).activities : [body];
  if (!Array.isArray(items) || items.length < 1 || items.length > MAX_BATCH) {
    throw invalid(`activities must be an array of 1-${MAX_BATCH} activities`, undefined, [
      { parameter: 'activities', message: `must hold 1-${MAX_BATCH} activities` },
    ]);
  }
  const errors: FieldError[] = [];
  const parsed: TimedActivity[] = [];
  items.forEach((item, index) => {
    const result = activitySchema.safeParse(item);
    if (result.success) parsed.push({ ...result.data, created_at: result.data.created_at ?? now });
    else errors.push(...fieldErrors(result.error, isBatch ? `activities[${index}]` : undefined));
  });
  if (errors.length > 0) {
    throw invalid(`invalid activity: ${errors[0].parameter}: ${errors[0].message}; nothing was accepted`, undefined, errors);
  }
  // The AAA payload is the same for every audience user but for `for_user_id`, and an XAA envelope the
  // same for every subscription but for its filter and tag: each is rendered once, at its largest, to size it.
  parsed.forEach((activity, index) => {
    const aaa = isAaa(activity) ? encoder.encode(renderPayload(activity, '0'.repeat(19))).byteLength : 0;
    const size = Math.max(aaa, largestXaaEnvelopeBytes(activity, xaaEventsOf(activity)));
    if (size > MAX_PAYLOAD_BYTES) {
      const parameter = isBatch ? `activities[${index}]` : 'body';
      throw new ApiError(
        'payload-too-large',
        `${parameter} would render a ${size}-byte payload; at most ${MAX_PAYLOAD_BYTES} bytes fit one delivery; nothing was accepted`,
        {
          errors: [{ parameter, message: `renders to ${size} bytes, more than ${MAX_PAYLOAD_BYTES}` }],
        },
      );
    }
  });
  return parsed;
}

export const internalActivity = apiRouter();
internalActivity.openapi(ingestActivity, async (c) => {
  const now = Date.now();
  const list = parseActivities(parseJsonBody(await c.req.arrayBuffer(), c.req.header('content-type')), now);
  const { eventIds, duplicates } = await fanOut(c.env, list, now, c.get('requestId'));
  return c.json({ data: { accepted: list.length, event_ids: eventIds, duplicates } }, 202);
});
