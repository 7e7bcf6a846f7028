// The shared webhook receiver, on its own: the end-to-end tests, the bench and the fault runs trust its
// verdicts, so it must accept exactly what is signed right and name everything else. Standard Webhooks
// signatures here come from the `standardwebhooks` package, not from the receiver's code.
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { startReceiver } from '../../scripts/lib/receiver.mjs';

const secretA = `aae_cs_${randomBytes(32).toString('base64url')}`;
const secretB = `aae_cs_${randomBytes(32).toString('base64url')}`;
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const hookA = whsec();
const hookB = whsec();

/** @type {Awaited<ReturnType<typeof startReceiver>>} */
let receiver;
/** @type {Array<() => import('../../scripts/lib/receiver.mjs').Answer>} what the next deliveries are answered */
const answers = [];

before(async () => {
  receiver = await startReceiver({ answer: () => answers.shift()?.() });
  receiver.trustApp('A', secretA);
  receiver.trustApp('B', secretB);
  receiver.trustWebhook('1001', 'A', hookA);
  receiver.trustWebhook('2002', 'B', hookB);
});
after(() => receiver?.close());

const xSign = (/** @type {string} */ secret, /** @type {string} */ message) =>
  `sha256=${createHmac('sha256', secret).update(message).digest('base64')}`;

let nextId = 0;
/**
 * POSTs `body` to the receiver, signed by default with app A and webhook 1001.
 * @param {object} [o]
 * @param {string} [o.body] @param {string} [o.consumerSecret] @param {string[]} [o.signingSecrets]
 * @param {number} [o.timestamp] seconds @param {string} [o.id] webhook-id @param {Record<string, string>} [o.headers] overrides
 */
async function post({
  body = '{"for_user_id":"1","tweet_create_events":[]}',
  consumerSecret = secretA,
  signingSecrets = [hookA],
  timestamp,
  id = `msg_${++nextId}`,
  headers = {},
} = {}) {
  const ts = timestamp ?? Math.floor(Date.now() / 1000);
  const signature = signingSecrets.map((s) => new Webhook(s).sign(id, new Date(ts * 1000), body)).join(' ');
  const before = receiver.problems.length;
  const res = await fetch(receiver.url('/shared/path'), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-twitter-webhooks-signature': xSign(consumerSecret, body),
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signature,
      ...headers,
    },
    body,
  });
  await res.arrayBuffer();
  return { res, id, problems: receiver.problems.slice(before).map((p) => p.kind) };
}

const lastDelivery = () => receiver.deliveries.at(-1);

test('a CRC is answered for whichever trusted app signed it, and refused when none did', async () => {
  for (const [app, secret] of [
    ['A', secretA],
    ['B', secretB],
  ]) {
    const res = await fetch(receiver.url('/shared/path?crc_token=tok%2Fen&nonce=n1'), {
      headers: { 'x-twitter-webhooks-signature': xSign(secret, 'crc_token=tok/en&nonce=n1') },
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { response_token: xSign(secret, 'tok/en') });
    assert.deepEqual(receiver.crcs.at(-1), { path: '/shared/path', app, at: receiver.crcs.at(-1)?.at });
  }
  const stranger = await fetch(receiver.url('/shared/path?crc_token=t&nonce=n'), {
    headers: { 'x-twitter-webhooks-signature': xSign('not trusted', 'crc_token=t&nonce=n') },
  });
  assert.equal(stranger.status, 401);
  const unsigned = await fetch(receiver.url('/shared/path?crc_token=t&nonce=n'));
  assert.equal(unsigned.status, 401);
  assert.equal(receiver.crcs.at(-1)?.app, null);
});

test('a delivery signed right is attributed to its app and webhook, with no problem', async () => {
  const { res, id, problems } = await post();
  assert.equal(res.status, 200);
  assert.deepEqual(problems, []);
  const d = lastDelivery();
  assert.equal(d?.headers['webhook-id'], id);
  assert.equal(d?.app, 'A');
  assert.equal(d?.webhookId, '1001');
  assert.deepEqual(d?.json, { for_user_id: '1', tweet_create_events: [] });
  assert.deepEqual(d?.verdicts, { x: 'valid', standard: 'valid', xApp: 'A', standardWebhook: '1001' });

  // The other app on the same URL: told apart by its keys.
  await post({ consumerSecret: secretB, signingSecrets: [hookB] });
  assert.equal(lastDelivery()?.app, 'B');
  assert.equal(lastDelivery()?.webhookId, '2002');

  // A webhook-id naming another trusted webhook (the service's are msg_<event>_<webhook>_<user>) only
  // changes the order of the search: the keys decide.
  assert.deepEqual((await post({ id: 'msg_77_2002_1' })).problems, []);
  assert.equal(lastDelivery()?.webhookId, '1001');
  assert.equal(lastDelivery()?.app, 'A');
});

test('during a signing-secret rotation either of the space-separated signatures verifies', async () => {
  const rotated = whsec();
  assert.deepEqual((await post({ signingSecrets: [rotated, hookA] })).problems, []);
  assert.deepEqual((await post({ signingSecrets: [rotated] })).problems, ['bad signature']);
  receiver.trustWebhook('1001', 'A', rotated);
  assert.deepEqual((await post({ signingSecrets: [rotated] })).problems, []);
  assert.equal(lastDelivery()?.webhookId, '1001');
  assert.throws(() => receiver.trustWebhook('1001', 'B', whsec()), /already trusted for app A/);
});

test('signatures that do not belong together, or do not sign this body, are bad signatures', async () => {
  // X-signed by A but Standard-signed by B's webhook: a delivery at the wrong tenant.
  const crossed = await post({ signingSecrets: [hookB] });
  assert.deepEqual(crossed.problems, ['bad signature']);
  assert.equal(receiver.problems.at(-1)?.delivery.app, null);
  assert.deepEqual(receiver.problems.at(-1)?.delivery.verdicts, { x: 'valid', standard: 'valid', xApp: 'A', standardWebhook: '2002' });

  const untrusted = await post({ consumerSecret: 'aae_cs_unknown' });
  assert.deepEqual(untrusted.problems, ['bad signature']);
  assert.equal(receiver.problems.at(-1)?.delivery.verdicts.x, 'invalid');

  const tampered = await post({ headers: { 'x-twitter-webhooks-signature': xSign(secretA, '{"other":1}') } });
  assert.deepEqual(tampered.problems, ['bad signature']);

  // The right bytes in base64url instead of base64 are not the documented format.
  let n = 0;
  while (!/[+/]/.test(xSign(secretA, `{"n":${n}}`))) n++;
  const body = `{"n":${n}}`;
  const b64url = xSign(secretA, body).replace(/\+/g, '-').replace(/\//g, '_');
  const wrongAlphabet = await post({ body, headers: { 'x-twitter-webhooks-signature': b64url } });
  assert.deepEqual(wrongAlphabet.problems, ['bad signature']);

  const missing = await post({ headers: { 'webhook-signature': '' } });
  assert.deepEqual(missing.problems, ['bad signature']);
  assert.equal(receiver.problems.at(-1)?.delivery.verdicts.standard, 'invalid');
});

test('wrong content type, stale or missing timestamp and a non-JSON body are named', async () => {
  assert.deepEqual((await post({ headers: { 'content-type': 'text/plain' } })).problems, ['content-type']);
  assert.deepEqual((await post({ timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).problems, ['stale webhook-timestamp']);
  assert.deepEqual((await post({ timestamp: Math.floor(Date.now() / 1000) + 6 * 60 })).problems, ['stale webhook-timestamp']);
  assert.deepEqual((await post({ body: 'not json' })).problems, ['non-json body']);
  assert.deepEqual((await post({ headers: { 'webhook-timestamp': 'soon' } })).problems, ['stale webhook-timestamp', 'bad signature']);
});

test('answers: a status, headers after a delay, a closed connection; only 2xx counts as delivered', async () => {
  const delivered = receiver.deliveries.length;
  answers.push(() => 500);
  assert.equal((await post()).res.status, 500);
  answers.push(() => ({ status: 429, headers: { 'retry-after': '2' }, afterMs: 300 }));
  const started = Date.now();
  const limited = await post();
  assert.equal(limited.res.status, 429);
  assert.equal(limited.res.headers.get('retry-after'), '2');
  assert.ok(Date.now() - started >= 290, 'the answer waited');
  answers.push(() => 'close');
  await assert.rejects(post());
  assert.equal(receiver.deliveries.length, delivered, 'nothing answered non-2xx is recorded as delivered');
  answers.push(() => 204);
  assert.equal((await post()).res.status, 204);
  assert.equal(receiver.deliveries.length, delivered + 1);
});

test('an unsigned receiver (the bench floor) checks content only', async () => {
  /** @type {import('../../scripts/lib/receiver.mjs').Delivery[]} */
  const seen = [];
  const floor = await startReceiver({ unsigned: true, keep: false, onDelivery: (d) => seen.push(d) });
  try {
    const res = await fetch(floor.url('/floor'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"x"}' });
    assert.equal(res.status, 200);
    assert.deepEqual(floor.problems, []);
    assert.deepEqual(floor.deliveries, [], 'keep: false keeps nothing');
    assert.equal(seen[0]?.json.id, 'x');
  } finally {
    await floor.close();
  }
});
