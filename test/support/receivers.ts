import { vi } from 'vitest';
import { crcRequestSignature, crcResponseToken } from '../../src/domain/crc';

let lastPort = 20_000;

/**
 * A receiver URL not handed out before (a fresh port on 127.0.0.1; the fake receivers key
 * endpoints by origin and path). Nothing listens there: requests are answered by installReceivers.
 */
export const receiverUrl = (path = '/hook') => `http://127.0.0.1:${++lastPort}${path}`;

export type ReceiverBehaviour =
  | 'ok'
  | 'wrong-token'
  | 'no-token'
  | 'non-json'
  | 'redirect'
  | 'not-found'
  | 'server-error'
  | 'timeout'
  | 'refuse'
  | 'unknown-host';

export interface SeenRequest {
  url: URL;
  method: string;
  headers: Headers;
  body: string;
  at: number;
}

type PostHandler = (request: SeenRequest) => Response | Promise<Response>;

/**
 * Fake webhook receivers behind a `fetch` spy. Each URL knows the consumer secrets of the apps that
 * registered it and answers a CRC with the one whose request signature matches (as a shared endpoint
 * must), or misbehaves as told. POSTs answer 200 unless a handler says otherwise. Every request is
 * recorded. Network failures are thrown as workerd's fetch throws them (measured against real sockets).
 */
export function installReceivers() {
  const endpoints = new Map<string, { secrets: string[]; behaviour: ReceiverBehaviour; onPost?: PostHandler; pinned?: string }>();
  const seen: SeenRequest[] = [];
  const keyOf = (url: string | URL) => {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  };
  const answer = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input as RequestInfo, init);
    const url = new URL(request.url);
    const record: SeenRequest = { url, method: request.method, headers: request.headers, body: await request.text(), at: Date.now() };
    seen.push(record);
    const endpoint = endpoints.get(keyOf(url));
    if (!endpoint || endpoint.behaviour === 'refuse') throw new Error('Network connection lost.');
    switch (endpoint.behaviour) {
      case 'unknown-host':
        // workerd hides the DNS failure (and a TLS one) behind an opaque internal error.
        throw new Error(`internal error; reference = ${crypto.randomUUID().slice(0, 24)}`);
      case 'timeout':
        throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
      case 'server-error':
        return new Response('oops', { status: 503 });
      case 'not-found':
        return new Response('no such page', { status: 404 });
      case 'redirect':
        return new Response(null, { status: 302, headers: { location: 'https://elsewhere.example/' } });
      case 'non-json':
        return new Response('<html>hi</html>', { status: 200, headers: { 'content-type': 'text/html' } });
      case 'wrong-token':
        return Response.json({ response_token: 'sha256=AAAA' });
      case 'no-token':
        return Response.json({ token: 'sha256=AAAA' });
      case 'ok': {
        const token = url.searchParams.get('crc_token');
        if (request.method === 'GET' && token && endpoint.pinned) {
          // A receiver configured with one secret that answers without checking the request signature.
          return Response.json({ response_token: await crcResponseToken(endpoint.pinned, token) });
        }
        if (request.method === 'GET' && token) {
          const nonce = url.searchParams.get('nonce') ?? '';
          const offered = request.headers.get('x-twitter-webhooks-signature');
          for (const secret of endpoint.secrets) {
            if ((await crcRequestSignature(secret, token, nonce)) === offered) {
              return Response.json({ response_token: await crcResponseToken(secret, token) });
            }
          }
          return new Response('unknown signer', { status: 401 });
        }
        return endpoint.onPost ? endpoint.onPost(record) : new Response(null, { status: 200 });
      }
    }
  };
  // A request whose signal fires (its timeout) fails as workerd's fetch does, even if its handler never answers.
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation((input, init) => {
    const signal = init?.signal;
    if (!signal) return answer(input, init);
    return new Promise<Response>((resolve, reject) => {
      const abort = () => reject(signal.reason ?? new DOMException('The operation was aborted', 'AbortError'));
      if (signal.aborted) return abort();
      signal.addEventListener('abort', abort, { once: true });
      answer(input, init).then(resolve, reject);
    });
  });
  return {
    spy,
    seen,
    /** Adds `secret` (an app's consumer secret) to the endpoint at `url` (query ignored). */
    set(url: string, secret: string, behaviour: ReceiverBehaviour = 'ok') {
      const existing = endpoints.get(keyOf(url));
      endpoints.set(keyOf(url), { secrets: [...(existing?.secrets ?? []), secret], behaviour, onPost: existing?.onPost });
    },
    behave(url: string, behaviour: ReceiverBehaviour) {
      endpoints.get(keyOf(url))!.behaviour = behaviour;
    },
    /** The endpoint answers every CRC with this one secret, as a receiver that was never updated would. */
    pin(url: string, secret: string | undefined) {
      endpoints.get(keyOf(url))!.pinned = secret;
    },
    onPost(url: string, handler: PostHandler | undefined) {
      endpoints.get(keyOf(url))!.onPost = handler;
    },
    /** Deliveries (POSTs) that reached `url`. */
    posts(url: string) {
      return seen.filter((r) => r.method === 'POST' && keyOf(r.url) === keyOf(url));
    },
  };
}
export type Receivers = ReturnType<typeof installReceivers>;
