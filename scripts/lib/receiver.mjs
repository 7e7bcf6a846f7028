// A real webhook receiver on 127.0.0.1 for end-to-end tests and fault runs. It knows the secrets of
// the apps and webhooks that use it (several apps may share one URL), answers CRC challenges for
// whichever app signed them, and verifies both signatures of every delivery from its own code.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const hmac = (key, message) => createHmac('sha256', key).update(message).digest('base64');
const same = (a, b) => typeof a === 'string' && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export async function startReceiver({ port = 0, handler } = {}) {
  const apps = new Map(); // name -> consumer secret
  const webhooks = new Map(); // webhook id -> { app, signingKey }
  const deliveries = [];
  const problems = [];
  const crcs = [];

  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url, 'http://127.0.0.1');
      const crcToken = url.searchParams.get('crc_token');
      if (req.method === 'GET' && crcToken) {
        const nonce = url.searchParams.get('nonce') ?? '';
        const signature = req.headers['x-twitter-webhooks-signature'];
        const signer = [...apps].find(([, secret]) => same(signature, `sha256=${hmac(secret, `crc_token=${crcToken}&nonce=${nonce}`)}`));
        crcs.push({ path: url.pathname, app: signer?.[0] ?? null });
        if (!signer) return res.writeHead(401).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ response_token: `sha256=${hmac(signer[1], crcToken)}` }));
      }
      if (req.method !== 'POST') return res.writeHead(404).end();
      const record = verify(req, raw, url);
      const decision = handler ? await handler(record, req, res) : undefined;
      if (decision === 'handled') return;
      const status = decision ?? 200;
      if (status >= 200 && status < 300) deliveries.push(record);
      res.writeHead(status).end();
    });
  });

  function verify(req, raw, url) {
    const body = raw.toString('utf8');
    const record = { path: url.pathname, headers: req.headers, body, json: null, app: null, webhookId: null, at: Date.now() };
    try {
      record.json = JSON.parse(body);
    } catch {
      problems.push({ kind: 'non-json body', record });
    }
    const xSignature = req.headers['x-twitter-webhooks-signature'];
    const xSigners = [...apps].filter(([, secret]) => same(xSignature, `sha256=${hmac(secret, raw)}`)).map(([name]) => name);
    const id = req.headers['webhook-id'];
    const timestamp = req.headers['webhook-timestamp'];
    const offered = String(req.headers['webhook-signature'] ?? '').split(' ');
    const standardSigners = [...webhooks]
      .filter(([, w]) => offered.some((s) => same(s, `v1,${hmac(w.signingKey, `${id}.${timestamp}.${body}`)}`)))
      .map(([webhookId, w]) => ({ webhookId, app: w.app }));
    if (req.headers['content-type'] !== 'application/json') problems.push({ kind: 'content-type', record });
    if (Math.abs(Number(timestamp) * 1000 - Date.now()) > 5 * 60_000) problems.push({ kind: 'stale webhook-timestamp', record });
    if (xSigners.length !== 1 || standardSigners.length !== 1 || xSigners[0] !== standardSigners[0].app) {
      problems.push({ kind: 'bad signature', record, xSigners, standardSigners });
    } else {
      record.app = xSigners[0];
      record.webhookId = standardSigners[0].webhookId;
    }
    return record;
  }

  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    url: (path = '/webhook') => `http://127.0.0.1:${server.address().port}${path}`,
    trustApp(name, consumerSecret) {
      apps.set(name, consumerSecret);
    },
    trustWebhook(webhookId, app, signingSecret) {
      webhooks.set(webhookId, { app, signingKey: Buffer.from(signingSecret.replace(/^whsec_/, ''), 'base64') });
    },
    deliveries,
    problems,
    crcs,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
