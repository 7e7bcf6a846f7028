import { describe, expect, it } from 'vitest';
import { crcResponseToken } from '../../src/domain/crc';
import { type CrcAnswer, type CrcContext, classifyCrcAnswer, classifyCrcError } from '../../src/domain/crc-failures';

const SECRET = 'aae_cs_the-consumer-secret';
const ctx: CrcContext = { url: 'https://hooks.example.com/x/webhook', appId: '1234', consumerKey: 'ck_public_key', timeoutMs: 10_000 };
const expected = async () => [await crcResponseToken(SECRET, 'the-token')];
const answer = (status: number, body = '', extra: Partial<CrcAnswer> = {}): CrcAnswer => ({ status, body, ...extra });

/** Every failure names the URL; none ever shows a secret. */
function failure(outcome: ReturnType<typeof classifyCrcAnswer>, kind: 'hard' | 'transient') {
  expect(outcome.kind).toBe(kind);
  const reason = (outcome as { reason: string }).reason;
  expect(reason).toContain(`GET ${ctx.url}:`);
  expect(reason).not.toContain(SECRET);
  return reason;
}

describe('classifyCrcAnswer', () => {
  it('accepts the right token', async () => {
    const token = (await expected())[0];
    expect(classifyCrcAnswer(answer(200, JSON.stringify({ response_token: token })), await expected(), ctx)).toEqual({ kind: 'ok' });
  });

  it('a wrong token most likely means another consumer secret, and names the app whose secret is expected', async () => {
    const other = await crcResponseToken('aae_cs_another-apps-secret', 'the-token');
    const reason = failure(classifyCrcAnswer(answer(200, JSON.stringify({ response_token: other })), await expected(), ctx), 'hard');
    expect(reason).toContain('response_token does not match');
    expect(reason).toContain('another consumer secret');
    expect(reason).toContain('app 1234 (consumer key ck_public_key)');
  });

  it('says when the previous secret is accepted too (during a rotation)', async () => {
    const accepted = [...(await expected()), await crcResponseToken('aae_cs_previous', 'the-token')];
    const reason = failure(classifyCrcAnswer(answer(200, '{"response_token":"sha256=AAAA"}'), accepted, ctx), 'hard');
    expect(reason).toContain('the previous one is accepted too');
  });

  it('spots a token without the sha256= prefix, and a hex-encoded one', async () => {
    const [token] = await expected();
    const bare = token.slice('sha256='.length);
    const hex = [...atob(bare)].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
    expect(failure(classifyCrcAnswer(answer(200, JSON.stringify({ response_token: bare })), [token], ctx), 'hard')).toContain(
      'lacks the "sha256=" prefix',
    );
    expect(failure(classifyCrcAnswer(answer(200, JSON.stringify({ response_token: `sha256=${hex}` })), [token], ctx), 'hard')).toContain(
      'hex-encoded; it must be base64',
    );
  });

  it.each([
    ['{}', 'no string response_token'],
    ['{"response_token": 42}', 'no string response_token'],
    ['null', 'no string response_token'],
  ])('JSON without a response_token (%s)', async (body, words) => {
    const reason = failure(classifyCrcAnswer(answer(200, body), await expected(), ctx), 'hard');
    expect(reason).toContain(words);
    expect(reason).toContain('{"response_token": "sha256=');
  });

  it('a 200 that is not JSON says what came instead and what to send', async () => {
    const reason = failure(
      classifyCrcAnswer(answer(200, '<html>hello</html>', { contentType: 'text/html' }), await expected(), ctx),
      'hard',
    );
    expect(reason).toContain('not JSON (content-type text/html, body starts "<html>hello</html>")');
    expect(reason).toContain('application/json');
  });

  it.each([301, 302, 307, 308])('a %i redirect is not followed; register the final URL', async (status) => {
    const reason = failure(
      classifyCrcAnswer(answer(status, '', { location: 'https://elsewhere.example/' }), await expected(), ctx),
      'hard',
    );
    expect(reason).toContain(`redirected (HTTP ${status} to https://elsewhere.example/)`);
    expect(reason).toContain('Register the final URL');
  });

  it.each([401, 403])('a %i most likely means the receiver checks the signature with another consumer secret', async (status) => {
    const reason = failure(classifyCrcAnswer(answer(status), await expected(), ctx), 'transient');
    expect(reason).toContain(`HTTP ${status}`);
    expect(reason).toContain('x-twitter-webhooks-signature');
    expect(reason).toContain('consumer secret of app 1234');
  });

  it('a 404 points at the path', async () => {
    const reason = failure(classifyCrcAnswer(answer(404), await expected(), ctx), 'transient');
    expect(reason).toContain('no handler at this path (HTTP 404)');
    expect(reason).toContain('/x/webhook');
  });

  it('a 405 explains the CRC is a GET', async () => {
    expect(failure(classifyCrcAnswer(answer(405), await expected(), ctx), 'transient')).toContain('The CRC is a GET');
  });

  it.each([500, 502, 503])('a %i is the receiver failing', async (status) => {
    expect(failure(classifyCrcAnswer(answer(status, '{"response_token":"x"}'), await expected(), ctx), 'transient')).toContain(
      `the receiver failed (HTTP ${status})`,
    );
  });

  it.each([
    [429, 'transient'],
    [204, 'hard'],
  ] as const)('any other non-200 (%i) says what a correct answer is', async (status, kind) => {
    expect(failure(classifyCrcAnswer(answer(status), await expected(), ctx), kind)).toContain(`HTTP ${status}`);
  });

  it("reads Cloudflare's own answers for DNS (530/1016) and TLS (525, 526) failures", async () => {
    expect(failure(classifyCrcAnswer(answer(530, 'error code: 1016'), await expected(), ctx), 'transient')).toContain(
      'could not be resolved (DNS lookup failed)',
    );
    for (const status of [525, 526]) {
      expect(failure(classifyCrcAnswer(answer(status), await expected(), ctx), 'transient')).toContain(
        'TLS handshake with hooks.example.com',
      );
    }
  });
});

describe('classifyCrcError', () => {
  const error = (message: string, name = 'Error') => Object.assign(new Error(message), { name });

  it.each([
    // What workerd's fetch throws (measured), and what other runtimes say.
    ['Network connection lost.', 'nothing is listening at hooks.example.com (connection refused)', 'Start the receiver'],
    ['connect ECONNREFUSED 127.0.0.1:9', 'nothing is listening', 'Start the receiver'],
    ['getaddrinfo ENOTFOUND hooks.example.com', 'could not be resolved (DNS lookup failed)', 'public DNS record'],
    [
      "TLS peer's certificate is not trusted; reason = self signed certificate",
      'TLS handshake with hooks.example.com failed',
      'self-signed',
    ],
    [
      'internal error; reference = md8phagg0jitfmaabouvj1pj',
      'could not be resolved, or the TLS handshake with it failed',
      'valid certificate',
    ],
    ['something else entirely', 'the request failed (something else entirely)', 'reachable from the internet'],
  ])('%s', (message, cause, fix) => {
    const reason = failure(classifyCrcError(error(message), ctx), 'transient');
    expect(reason).toContain(cause);
    expect(reason).toContain(fix);
  });

  it("over plain http, workerd's opaque internal error can only be DNS", () => {
    const outcome = classifyCrcError(error('internal error; reference = abc'), { ...ctx, url: 'http://nowhere.invalid/h' });
    expect(outcome).toEqual({
      kind: 'transient',
      reason:
        'GET http://nowhere.invalid/h: the host nowhere.invalid could not be resolved (DNS lookup failed). Check the spelling of the host name and that it has a public DNS record',
    });
  });

  it('a timeout names the deadline', () => {
    for (const name of ['TimeoutError', 'AbortError']) {
      const reason = failure(classifyCrcError(error('The operation was aborted due to timeout', name), ctx), 'transient');
      expect(reason).toContain('no answer within 10000 ms');
    }
  });
});
