// How `npm run receiver` prints what arrives: a CRC challenge as one line, a delivery as a short
// block (what it is, for whom, its headers, both signature verdicts) followed by the body.

/** @typedef {import('./receiver.mjs').Delivery} Delivery */
/** @typedef {import('./receiver.mjs').Crc} Crc */

const clock = (/** @type {number} */ ms) => new Date(ms).toISOString().slice(11, 23);

/** @param {Crc} crc @param {number} status */
export function formatCrc(crc, status) {
  const verdict = crc.app ? 'signed with the consumer secret, answered' : 'NOT signed with a trusted consumer secret, refused';
  return `${clock(crc.at)} CRC GET ${crc.path}: ${verdict} (${status})`;
}

/**
 * What a payload is: its `*_events` key (X v1.1), or `user_event` / `replay_job_status`.
 * @param {any} json
 */
function payloadKind(json) {
  if (!json || typeof json !== 'object') return 'not JSON';
  const keys = Object.keys(json);
  return keys.find((k) => k.endsWith('_events')) ?? keys.find((k) => k !== 'for_user_id') ?? '(empty)';
}

const VERDICT_TEXT = { valid: 'valid', invalid: 'INVALID', missing: 'MISSING' };

/**
 * @param {Delivery} delivery
 * @param {number} status what the receiver answered
 */
export function formatDelivery(delivery, status) {
  const { headers, json, verdicts } = delivery;
  const header = (/** @type {string} */ name) => {
    const value = headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  const kind = payloadKind(json);
  const forUser = json?.for_user_id !== undefined ? `  for_user_id=${json.for_user_id}` : '';
  const replay = header('x-replay-job-id') ? `  REPLAY of job ${header('x-replay-job-id')}` : '';
  const timestamp = header('webhook-timestamp');
  const age = timestamp ? ` (${Math.floor(delivery.at / 1000) - Number(timestamp)} s old)` : '';

  const x = verdicts.x === 'unchecked' ? 'not checked' : VERDICT_TEXT[verdicts.x];
  let standard;
  if (verdicts.standard === 'valid') standard = `valid (webhook ${verdicts.standardWebhook})`;
  else if (verdicts.standard === 'unchecked') standard = 'not checked: no signing secret yet (see --help)';
  else standard = VERDICT_TEXT[verdicts.standard];
  const otherProblems = delivery.problems.filter((p) => p !== 'bad signature');

  const lines = [
    `${clock(delivery.at)} POST ${delivery.path}: ${kind}${forUser}${replay} → answered ${status}`,
    `  webhook-id: ${header('webhook-id') ?? '(none)'}  webhook-timestamp: ${timestamp ?? '(none)'}${age}  user-agent: ${header('user-agent') ?? '(none)'}`,
    `  x-twitter-webhooks-signature: ${x}   webhook-signature: ${standard}`,
    ...(otherProblems.length ? [`  PROBLEMS: ${otherProblems.join(', ')}`] : []),
    indent(json ? JSON.stringify(json, null, 2) : delivery.body),
  ];
  return lines.join('\n');
}

const indent = (/** @type {string} */ text) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
