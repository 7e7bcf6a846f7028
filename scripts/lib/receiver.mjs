// The one webhook receiver on 127.0.0.1, used by `npm run receiver`, the end-to-end tests, the bench
// and the fault runs. It is told the secrets of the apps and webhooks that use it (several apps may
// share one URL), answers a CRC for whichever trusted app signed it, verifies both signatures of every
// delivery, and records deliveries and problems. Identity comes only from the keys that verify: by app
// and webhook id, never by URL. Fast enough for the bench: keys imported once, 2 HMACs per delivery.
import { createServer } from 'node:http';
import {
  consumerKey,
  crcResponseToken,
  offeredStandardSignatures,
  offeredXSignature,
  signingKey,
  signsBody,
  signsCrc,
  signsStandard,
} from './webhook-signatures.mjs';

/** @typedef {import('node:http').IncomingMessage} IncomingMessage */
/** @typedef {import('node:http').ServerResponse} ServerResponse */
/** @typedef {import('node:crypto').KeyObject} KeyObject */

/**
 * `valid`: a trusted key verifies it; `invalid`: none does; `missing`: no signature offered;
 * `unchecked`: nothing to check it with (no key of that kind trusted yet, or an unsigned receiver).
 * @typedef {'valid' | 'invalid' | 'missing' | 'unchecked'} Verdict
 */

/**
 * One POST as received and verified.
 * @typedef {object} Delivery
 * @property {string} path
 * @property {import('node:http').IncomingHttpHeaders} headers
 * @property {string} body
 * @property {any} json the parsed body, or null if it is not JSON
 * @property {string | null} app the app whose consumer secret signed `x-twitter-webhooks-signature`,
 *   when that app's webhook also signed `webhook-signature`; null otherwise (a problem is recorded)
 * @property {string | null} webhookId the trusted webhook whose signing secret signed `webhook-signature`
 * @property {{ x: Verdict, standard: Verdict, xApp: string | null, standardWebhook: string | null }} verdicts
 *   each signature on its own: who signed it, if anyone trusted did
 * @property {ProblemKind[]} problems what is wrong with it (also listed in the receiver's `problems`)
 * @property {number} at arrival time (epoch ms)
 */

/**
 * @typedef {'bad signature' | 'content-type' | 'stale webhook-timestamp' | 'non-json body'} ProblemKind
 * @typedef {{ kind: ProblemKind, delivery: Delivery }} Problem
 * @typedef {{ path: string, app: string | null, at: number }} Crc a CRC challenge and the app that signed it
 */

/**
 * How to answer one delivery: a status code (only 2xx counts as delivered), a status with headers and
 * a delay (`afterMs` past the sender's timeout is a hang), or `'close'` to destroy the connection
 * without an answer. `undefined` is 200.
 * @typedef {number | { status: number, headers?: Record<string, string>, afterMs?: number } | 'close' | undefined} Answer
 */

/**
 * What the receiver trusts: an app's consumer keys (several during a rotation) and its webhooks, each
 * with its signing keys.
 * @typedef {{ id: string, app: string, keys: KeyObject[] }} WebhookEntry
 * @typedef {{ name: string, keys: KeyObject[], webhooks: WebhookEntry[] }} AppEntry
 */

/**
 * A running receiver. (A typedef, not the inferred type of an object literal: in JS files those are
 * open, so a misspelt member would type-check.)
 * @typedef {object} Receiver
 * @property {number} port
 * @property {(path?: string) => string} url its URL for a path (default /webhook)
 * @property {(name: string, consumerSecret: string) => void} trustApp trusts an app's consumer secret;
 *   call again with a rotated secret and both are trusted
 * @property {(webhookId: string, app: string, signingSecret: string) => void} trustWebhook trusts one
 *   of the app's webhooks by its signing secret; call again with a rotated secret and both are trusted
 * @property {Delivery[]} deliveries every delivery answered 2xx (unless `keep` is false)
 * @property {Problem[]} problems
 * @property {Crc[]} crcs
 * @property {() => Promise<void>} close stops listening and drops open connections (a delayed answer is never sent)
 */

/** A delivery whose `webhook-timestamp` is further than this from now is stale (Standard Webhooks' tolerance). */
const TIMESTAMP_TOLERANCE_MS = 5 * 60_000;

/**
 * @param {object} [options]
 * @param {number} [options.port] 0 (default) asks the OS for a free port
 * @param {(delivery: Delivery, req: IncomingMessage) => Answer | Promise<Answer>} [options.answer]
 *   decides the answer to each delivery, after verification (fault injection, or 401 on a bad signature)
 * @param {(delivery: Delivery) => void} [options.onDelivery] called for each delivery answered 2xx
 * @param {(crc: Crc, status: number) => void} [options.onCrc] called for each CRC challenge with the status answered
 * @param {boolean} [options.keep] keep answered deliveries in `deliveries` (default true; a long bench passes false)
 * @param {boolean} [options.unsigned] expect unsigned requests (the bench floor): no signature or timestamp checks
 * @returns {Promise<Receiver>}
 */
export async function startReceiver({ port = 0, answer, onDelivery, onCrc, keep = true, unsigned = false } = {}) {
  /** @type {Map<string, AppEntry>} */
  const apps = new Map();
  /** @type {Map<string, WebhookEntry>} */
  const webhooks = new Map();
  /** @type {Delivery[]} */
  const deliveries = [];
  /** @type {Problem[]} */
  const problems = [];
  /** @type {Crc[]} */
  const crcs = [];
  let trustedConsumerKeys = 0;
  /** Answers waiting for their delay, cancelled by close(). */
  /** @type {Set<NodeJS.Timeout>} */
  const delayed = new Set();

  const problem = (/** @type {Delivery} */ delivery, /** @type {ProblemKind} */ kind) => {
    delivery.problems.push(kind);
    problems.push({ kind, delivery });
  };

  const appEntry = (/** @type {string} */ name) => {
    let entry = apps.get(name);
    if (!entry) {
      entry = { name, keys: [], webhooks: [] };
      apps.set(name, entry);
    }
    return entry;
  };

  /**
   * The trusted app, and which of its consumer keys, satisfies `signs`: `likely` first (a guess that
   * only orders the search), then every other app.
   * @param {(key: KeyObject) => boolean} signs
   * @param {AppEntry | null | undefined} [likely]
   */
  const findApp = (signs, likely) => {
    if (likely) for (const key of likely.keys) if (signs(key)) return { app: likely, key };
    for (const app of apps.values()) {
      if (app === likely) continue;
      for (const key of app.keys) if (signs(key)) return { app, key };
    }
    return null;
  };

  /**
   * The trusted webhook whose signing key signed this delivery. The service's `webhook-id` is
   * `msg_<event>_<webhook id>_<user>`, so a trusted webhook id among its parts is tried first; that
   * only orders the search (every webhook is tried when it fails), the keys alone decide.
   * @param {string} id @param {string} timestamp @param {Buffer} body @param {Buffer[]} offered
   */
  const findWebhook = (id, timestamp, body, offered) => {
    const likely = id
      .split('_')
      .map((part) => webhooks.get(part))
      .find(Boolean);
    if (likely && signedBy(likely, id, timestamp, body, offered)) return likely;
    for (const webhook of webhooks.values()) if (webhook !== likely && signedBy(webhook, id, timestamp, body, offered)) return webhook;
    return null;
  };

  /** @param {WebhookEntry} webhook @param {string} id @param {string} timestamp @param {Buffer} body @param {Buffer[]} offered */
  const signedBy = (webhook, id, timestamp, body, offered) => {
    for (const key of webhook.keys) if (signsStandard(key, id, timestamp, body, offered)) return true;
    return false;
  };

  /** @param {IncomingMessage} req @param {ServerResponse} res @param {string} path @param {string} query */
  function answerCrc(req, res, path, query) {
    const params = new URLSearchParams(query);
    const crcToken = params.get('crc_token') ?? '';
    const nonce = params.get('nonce') ?? '';
    const offered = offeredXSignature(req.headers['x-twitter-webhooks-signature']);
    const signer = offered && findApp((key) => signsCrc(key, crcToken, nonce, offered));
    const crc = { path, app: signer?.app.name ?? null, at: Date.now() };
    crcs.push(crc);
    if (!signer) {
      res.writeHead(401).end();
    } else {
      // Answered with the very key that signed the challenge: during a consumer-secret rotation, that
      // is whichever of the app's secrets the service used.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response_token: crcResponseToken(signer.key, crcToken) }));
    }
    onCrc?.(crc, res.statusCode);
  }

  /** @param {IncomingMessage} req @param {Buffer} raw @param {string} path @returns {Delivery} */
  function verify(req, raw, path) {
    const headers = req.headers;
    const body = raw.toString('utf8');
    /** @type {Delivery} */
    const delivery = {
      path,
      headers,
      body,
      json: null,
      app: null,
      webhookId: null,
      verdicts: { x: 'unchecked', standard: 'unchecked', xApp: null, standardWebhook: null },
      problems: [],
      at: Date.now(),
    };
    try {
      delivery.json = JSON.parse(body);
    } catch {
      problem(delivery, 'non-json body');
    }
    if (headers['content-type'] !== 'application/json') problem(delivery, 'content-type');
    if (unsigned) return delivery;

    const timestamp = headers['webhook-timestamp'];
    if (
      typeof timestamp !== 'string' ||
      !/^\d+$/.test(timestamp) ||
      Math.abs(Number(timestamp) * 1000 - delivery.at) > TIMESTAMP_TOLERANCE_MS
    ) {
      problem(delivery, 'stale webhook-timestamp');
    }

    const verdicts = delivery.verdicts;
    const id = headers['webhook-id'];
    const standardHeader = headers['webhook-signature'];
    const standardOffered = offeredStandardSignatures(standardHeader);
    const webhook =
      typeof id === 'string' && typeof timestamp === 'string' && standardOffered.length > 0
        ? findWebhook(id, timestamp, raw, standardOffered)
        : null;
    verdicts.standard = standardHeader === undefined ? 'missing' : webhook ? 'valid' : webhooks.size === 0 ? 'unchecked' : 'invalid';
    verdicts.standardWebhook = webhook?.id ?? null;

    const xHeader = headers['x-twitter-webhooks-signature'];
    const xOffered = offeredXSignature(xHeader);
    // The webhook's own app first: every other app is tried only for a delivery at the wrong tenant.
    const xSigner = xOffered ? (findApp((key) => signsBody(key, raw, xOffered), webhook && apps.get(webhook.app))?.app ?? null) : null;
    verdicts.x = xHeader === undefined ? 'missing' : xSigner ? 'valid' : trustedConsumerKeys === 0 ? 'unchecked' : 'invalid';
    verdicts.xApp = xSigner?.name ?? null;

    // Consumer secrets are 256 random bits, so one signer at most: no need to try the others.
    if (xSigner && webhook && webhook.app === xSigner.name) {
      delivery.app = xSigner.name;
      delivery.webhookId = webhook.id;
    } else {
      problem(delivery, 'bad signature');
    }
    return delivery;
  }

  /** @param {IncomingMessage} req @param {ServerResponse} res @param {Delivery} delivery @param {Answer} decision */
  function respond(req, res, delivery, decision) {
    if (decision === 'close') {
      req.socket.destroy();
      return;
    }
    const { status = 200, headers = undefined, afterMs = 0 } = typeof decision === 'object' ? decision : { status: decision ?? 200 };
    const send = () => {
      if (status >= 200 && status < 300) {
        if (keep) deliveries.push(delivery);
        onDelivery?.(delivery);
      }
      res.writeHead(status, headers).end();
    };
    if (afterMs <= 0) return send();
    const timer = setTimeout(() => {
      delayed.delete(timer);
      send();
    }, afterMs);
    delayed.add(timer);
  }

  const server = createServer((req, res) => {
    /** @type {Buffer[]} */
    const chunks = [];
    req.on('data', (/** @type {Buffer} */ chunk) => chunks.push(chunk));
    req.on('end', () => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (req.method === 'GET' && q !== -1 && url.includes('crc_token=', q)) return answerCrc(req, res, path, url.slice(q + 1));
      if (req.method !== 'POST') return void res.writeHead(404).end();
      const raw = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
      const delivery = verify(req, raw, path);
      const decision = answer?.(delivery, req);
      if (decision instanceof Promise) decision.then((d) => respond(req, res, delivery, d));
      else respond(req, res, delivery, decision);
    });
  });
  // The service keeps connections open between batches; Node's 5 s default would churn them.
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());

  return {
    port: address.port,
    url: (path = '/webhook') => `http://127.0.0.1:${address.port}${path}`,
    trustApp(name, consumerSecret) {
      appEntry(name).keys.push(consumerKey(consumerSecret));
      trustedConsumerKeys++;
    },
    trustWebhook(webhookId, app, signingSecret) {
      const key = signingKey(signingSecret);
      const existing = webhooks.get(webhookId);
      if (existing) {
        if (existing.app !== app) throw new Error(`webhook ${webhookId} is already trusted for app ${existing.app}`);
        existing.keys.push(key);
        return;
      }
      const entry = { id: webhookId, app, keys: [key] };
      webhooks.set(webhookId, entry);
      appEntry(app).webhooks.push(entry);
    },
    deliveries,
    problems,
    crcs,
    close: () =>
      new Promise((resolve) => {
        for (const timer of delayed) clearTimeout(timer);
        delayed.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
