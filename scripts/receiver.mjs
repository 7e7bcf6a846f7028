#!/usr/bin/env node
// A local webhook receiver for trying the service: answers CRC challenges the way X documents them,
// checks the signature on every request, and prints what it receives.
//
//   CONSUMER_SECRET=aae_cs_… [SIGNING_SECRET=whsec_…] [PORT=9000] node scripts/receiver.mjs
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer } from 'node:http';

const consumerSecret = process.env.CONSUMER_SECRET;
const signingSecret = process.env.SIGNING_SECRET;
const port = Number(process.env.PORT ?? 9000);
if (!consumerSecret) {
  console.error('Set CONSUMER_SECRET to the consumer_secret of the app that registers this receiver.');
  process.exit(2);
}

const hmac = (key, message) => createHmac('sha256', key).update(message).digest('base64');
const same = (a, b) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

function verifyStandardWebhook(headers, body) {
  if (!signingSecret) return 'not checked (no SIGNING_SECRET)';
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const key = Buffer.from(signingSecret.replace(/^whsec_/, ''), 'base64');
  const expected = `v1,${hmac(key, `${id}.${timestamp}.${body}`)}`;
  const offered = String(headers['webhook-signature'] ?? '').split(' ');
  return offered.some((s) => same(s, expected)) ? 'valid' : 'INVALID';
}

createServer((req, res) => {
  const url = new URL(req.url, `http://${req.headers.host}`);
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const crcToken = url.searchParams.get('crc_token');
    if (req.method === 'GET' && crcToken) {
      const nonce = url.searchParams.get('nonce') ?? '';
      const expected = `sha256=${hmac(consumerSecret, `crc_token=${crcToken}&nonce=${nonce}`)}`;
      const signed = same(String(req.headers['x-twitter-webhooks-signature'] ?? ''), expected);
      console.log(`CRC challenge (request signature ${signed ? 'valid' : 'INVALID'})`);
      if (!signed) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ response_token: `sha256=${hmac(consumerSecret, crcToken)}` }));
      return;
    }
    if (req.method === 'POST') {
      const xSig = same(String(req.headers['x-twitter-webhooks-signature'] ?? ''), `sha256=${hmac(consumerSecret, body)}`);
      console.log(
        `POST webhook-id=${req.headers['webhook-id']} x-signature=${xSig ? 'valid' : 'INVALID'} ` +
          `standard-signature=${verifyStandardWebhook(req.headers, body)}\n${body}`,
      );
      res.writeHead(xSig ? 200 : 401).end();
      return;
    }
    res.writeHead(404).end();
  });
}).listen(port, '127.0.0.1', () => console.log(`receiver listening on http://127.0.0.1:${port}/webhook`));
