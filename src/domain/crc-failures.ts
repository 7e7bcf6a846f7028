import type { CrcOutcome } from './crc';

/**
 * Why a CRC failed, in words a developer can act on: every message names the URL, the cause and the
 * most likely fix. Pure: the caller hands in what the fetch threw or answered.
 */

/** What the message may say about the check and the app whose consumer secret is expected. */
export interface CrcContext {
  /** The webhook URL as registered (without the crc_token and nonce the check adds). */
  url: string;
  appId: string;
  /** Named so a receiver serving several apps can tell which credentials it should have used. */
  consumerKey?: string;
  timeoutMs: number;
}

export interface CrcAnswer {
  status: number;
  body: string;
  contentType?: string | null;
  location?: string | null;
}

const failed = (kind: 'hard' | 'transient', ctx: CrcContext, cause: string, fix: string): CrcOutcome => ({
  kind,
  reason: `GET ${ctx.url}: ${cause}. ${fix}`,
});

const part = (url: string, key: 'host' | 'pathname' | 'protocol') => {
  try {
    return new URL(url)[key];
  } catch {
    return url;
  }
};
const hostOf = (url: string) => part(url, 'host');

const DNS_FIX = 'Check the spelling of the host name and that it has a public DNS record';
const TLS_FIX = (ctx: CrcContext) =>
  `The receiver must present a valid, unexpired certificate for ${hostOf(ctx.url)} from a publicly trusted authority (self-signed certificates are refused)`;

/** Names the app whose secret is expected, never the secret. */
function whoseSecret(ctx: CrcContext, accepted: string[]): string {
  const app = `app ${ctx.appId}${ctx.consumerKey ? ` (consumer key ${ctx.consumerKey})` : ''}`;
  const grace = accepted.length > 1 ? ' (the secret was just rotated: the previous one is accepted too, for now)' : '';
  return `the consumer secret of ${app}${grace}`;
}

const ANSWER_SHAPE =
  'Answer with HTTP 200, content-type application/json and {"response_token": "sha256=<base64 HMAC-SHA256 of crc_token>"}';

const base64ToHex = (b64: string): string | null => {
  try {
    return [...atob(b64)].map((ch) => ch.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
};

/** A response_token that is almost right says exactly what is wrong with it. */
function nearMiss(token: string, accepted: string[]): string | null {
  for (const expected of accepted) {
    const digest = expected.slice('sha256='.length);
    if (token === digest) return 'the response_token lacks the "sha256=" prefix';
    const bare = token.startsWith('sha256=') ? token.slice('sha256='.length) : token;
    if (bare.toLowerCase() === base64ToHex(digest)) return 'the response_token is hex-encoded; it must be base64';
  }
  return null;
}

/** The receiver answered: is the answer right, and if not, what is wrong with it. */
export function classifyCrcAnswer(answer: CrcAnswer, accepted: string[], ctx: CrcContext): CrcOutcome {
  const { status } = answer;
  if (status >= 300 && status < 400) {
    const to = answer.location ? ` to ${answer.location}` : '';
    return failed(
      'hard',
      ctx,
      `the receiver redirected (HTTP ${status}${to}); redirects are not followed`,
      'Register the final URL instead',
    );
  }
  if (status === 530 && /\b1016\b/.test(answer.body)) {
    return failed('transient', ctx, `the host ${hostOf(ctx.url)} could not be resolved (DNS lookup failed)`, DNS_FIX);
  }
  if (status === 525 || status === 526) {
    return failed('transient', ctx, `the TLS handshake with ${hostOf(ctx.url)} failed (HTTP ${status})`, TLS_FIX(ctx));
  }
  if (status === 401 || status === 403) {
    return failed(
      'transient',
      ctx,
      `the receiver refused the check (HTTP ${status})`,
      `A receiver that verifies the x-twitter-webhooks-signature header refuses it when it computes the signature with another consumer secret: it must use ${whoseSecret(ctx, accepted)}`,
    );
  }
  if (status === 404) {
    return failed(
      'transient',
      ctx,
      'the receiver has no handler at this path (HTTP 404)',
      `Check the path of the URL (${part(ctx.url, 'pathname')})`,
    );
  }
  if (status === 405) {
    return failed(
      'transient',
      ctx,
      'the receiver does not accept GET at this path (HTTP 405)',
      'The CRC is a GET with crc_token and nonce query parameters; the same path receives the event POSTs',
    );
  }
  if (status >= 500) {
    return failed(
      'transient',
      ctx,
      `the receiver failed (HTTP ${status})`,
      "Check the receiver's logs; the CRC is retried on the next check",
    );
  }
  if (status >= 400) return failed('transient', ctx, `the receiver answered HTTP ${status}`, ANSWER_SHAPE);
  if (status !== 200) return failed('hard', ctx, `the receiver answered HTTP ${status}, not 200`, ANSWER_SHAPE);

  let parsed: unknown;
  try {
    parsed = JSON.parse(answer.body);
  } catch {
    const type = answer.contentType ? `content-type ${answer.contentType}, ` : '';
    const start = JSON.stringify(answer.body.slice(0, 40));
    return failed('hard', ctx, `the answer is not JSON (${type}body starts ${start})`, ANSWER_SHAPE);
  }
  const token = (parsed as { response_token?: unknown } | null)?.response_token;
  if (typeof token !== 'string') {
    return failed('hard', ctx, 'the JSON answer has no string response_token', ANSWER_SHAPE);
  }
  if (accepted.includes(token)) return { kind: 'ok' };
  const miss = nearMiss(token, accepted);
  if (miss) return failed('hard', ctx, miss, ANSWER_SHAPE);
  return failed(
    'hard',
    ctx,
    'the response_token does not match',
    `It was most likely computed with another consumer secret: the HMAC-SHA256 of crc_token must use ${whoseSecret(ctx, accepted)}`,
  );
}

/** The fetch threw: the receiver could not be reached, or did not answer in time. */
export function classifyCrcError(err: unknown, ctx: CrcContext): CrcOutcome {
  const name = (err as { name?: unknown } | null)?.name;
  const message = String((err as { message?: unknown } | null)?.message ?? err);
  const host = hostOf(ctx.url);
  if (name === 'TimeoutError' || name === 'AbortError') {
    return failed(
      'transient',
      ctx,
      `no answer within ${ctx.timeoutMs} ms`,
      `The receiver must answer the CRC within ${ctx.timeoutMs} ms; check that it is reachable from the internet and answers at once`,
    );
  }
  // workerd reports a refused connection as a lost one; Node and others say "refused".
  if (/network connection lost|connection refused|ECONNREFUSED/i.test(message)) {
    return failed(
      'transient',
      ctx,
      `nothing is listening at ${host} (connection refused)`,
      'Start the receiver, or fix the host and port of the URL',
    );
  }
  if (/DNS lookup failed|ENOTFOUND|EAI_AGAIN|name or service not known/i.test(message)) {
    return failed('transient', ctx, `the host ${host} could not be resolved (DNS lookup failed)`, DNS_FIX);
  }
  if (/\bTLS\b|\bSSL\b|certificate|handshake/i.test(message)) {
    return failed('transient', ctx, `the TLS handshake with ${host} failed (${message})`, TLS_FIX(ctx));
  }
  // workerd hides DNS and TLS failures alike behind an opaque internal error; over plain http it
  // can only be DNS.
  if (/^internal error; reference = /.test(message)) {
    if (part(ctx.url, 'protocol') === 'http:') {
      return failed('transient', ctx, `the host ${host} could not be resolved (DNS lookup failed)`, DNS_FIX);
    }
    return failed(
      'transient',
      ctx,
      `the host ${host} could not be resolved, or the TLS handshake with it failed`,
      `${DNS_FIX}, and that it presents a valid certificate for ${host} from a publicly trusted authority`,
    );
  }
  return failed('transient', ctx, `the request failed (${message})`, 'Check that the receiver is reachable from the internet');
}
