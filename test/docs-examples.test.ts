import { describe, expect, it } from 'vitest';
import deliveryDoc from '../docs/delivery.md?raw';
import eventsDoc from '../docs/events.md?raw';
import { activitySchema } from '../src/domain/activities';
import { audienceOf, isAaa, REQUIRED_SCOPE } from '../src/domain/audience';
import { crcRequestSignature, crcResponseToken } from '../src/domain/crc';
import { renderPayload, renderReplayJobStatus, renderRevoke, renderTestEvent } from '../src/domain/payloads';
import { signDelivery } from '../src/domain/signing';

/**
 * The examples in docs/ are the service's real output: every `<!-- example: <name> input|output -->`
 * block is rendered again here with the code that produces it on the wire, and the doc must show
 * exactly that (same keys, same order, same values; the doc may indent, the service sends it compact).
 */
type Example = { input?: string; output?: string };

function examplesIn(doc: string, file: string): Map<string, Example> {
  const found = new Map<string, Example>();
  const marker = /<!-- example: (\S+) (\S+) -->\n(```json\n([\s\S]*?)\n```)?/g;
  for (const m of doc.matchAll(marker)) {
    const [, name, part, fenced, json] = m;
    if (part !== 'input' && part !== 'output') throw new Error(`${file}: example ${name} has an unknown part "${part}"`);
    if (!fenced) throw new Error(`${file}: example ${name} ${part} is not followed by a json block`);
    const example = found.get(name) ?? {};
    if (example[part] !== undefined) throw new Error(`${file}: example ${name} ${part} appears twice`);
    example[part] = json;
    found.set(name, example);
  }
  return found;
}

const events = examplesIn(eventsDoc, 'docs/events.md');
const delivery = examplesIn(deliveryDoc, 'docs/delivery.md');

/** The doc's JSON, as the service would send it: compact, in the doc's key order. */
const compact = (json: string) => JSON.stringify(JSON.parse(json));
/** How a mismatch is reported: the block the doc should show. */
const shouldShow = (wire: string) => `the doc should show:\n${JSON.stringify(JSON.parse(wire), null, 2)}`;

function parts(examples: Map<string, Example>, name: string) {
  const example = examples.get(name);
  if (!example?.input || !example.output) throw new Error(`example ${name} needs both an input and an output block`);
  return { input: JSON.parse(example.input), output: example.output };
}

const ACTIVITY_TYPES = Object.keys(REQUIRED_SCOPE) as (keyof typeof REQUIRED_SCOPE)[];

describe('docs/events.md examples are what the renderer sends', () => {
  it('has an example for every activity type and every app-level notice, and nothing else', () => {
    expect([...events.keys()].sort()).toEqual([...ACTIVITY_TYPES, 'replay_job_status', 'test_event', 'user_event'].sort());
  });

  it.each(ACTIVITY_TYPES)('%s', (type) => {
    const { input, output } = parts(events, type);
    // The input is a real ingest body: it must pass the same schema /internal/activity applies.
    const activity = activitySchema.parse(input);
    expect(activity.type).toBe(type);
    const forUserId = JSON.parse(output).for_user_id;
    expect(audienceOf(activity), `for_user_id ${forUserId} must be in the activity's audience`).toContain(forUserId);
    const timed = { ...activity, created_at: activity.created_at ?? Date.now() };
    if (!isAaa(timed)) throw new Error(`${type} has no Account Activity payload`);
    const wire = renderPayload(timed, forUserId);
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });

  it('user_event (revoke)', () => {
    const { input, output } = parts(events, 'user_event');
    const wire = renderRevoke(input.app_id, input.user_id, Date.parse(input.at));
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });

  it('replay_job_status', () => {
    const { input, output } = parts(events, 'replay_job_status');
    const wire = renderReplayJobStatus({
      webhookId: input.webhook_id,
      jobId: input.job_id,
      complete: input.complete,
      description: input.description,
    });
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });

  it('test_event', () => {
    const { input, output } = parts(events, 'test_event');
    const wire = renderTestEvent({ appId: input.app_id, webhookId: input.webhook_id, eventId: input.event_id, at: input.at });
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });

  it('the scope column of the activity table is the one the service requires', () => {
    const rows = eventsDoc.split('\n').filter((line) => /^\| `[a-z_]+`/.test(line));
    const documented = new Map<string, string>();
    for (const row of rows) {
      const cells = row.split(' | ');
      const scope = cells[3]?.match(/`([a-z.]+)`/)?.[1];
      for (const [, type] of cells[0].matchAll(/`([a-z_]+)`/g)) if (scope) documented.set(type, scope);
    }
    expect(Object.fromEntries(documented)).toEqual(REQUIRED_SCOPE);
  });
});

describe('docs/delivery.md vectors are what the service computes', () => {
  it('has the CRC and signing examples', () => {
    expect([...delivery.keys()].sort()).toEqual(['crc', 'signing']);
  });

  it('crc', async () => {
    const { input, output } = parts(delivery, 'crc');
    const wire = JSON.stringify({
      'x-twitter-webhooks-signature': await crcRequestSignature(input.consumer_secret, input.crc_token, input.nonce),
      response: { response_token: await crcResponseToken(input.consumer_secret, input.crc_token) },
    });
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });

  it('signing', async () => {
    const { input, output } = parts(delivery, 'signing');
    // The signed body is the tweet_delete example of docs/events.md, exactly as sent.
    expect(input.body).toBe(compact(parts(events, 'tweet_delete').output));
    const wire = JSON.stringify(
      await signDelivery({
        body: input.body,
        webhookMessageId: input.webhook_id,
        timestampSeconds: input.timestamp,
        consumerKey: input.consumer_secret,
        signingKey: input.signing_secret,
      }),
    );
    expect(compact(output), shouldShow(wire)).toBe(wire);
  });
});
