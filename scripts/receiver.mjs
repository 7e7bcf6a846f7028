#!/usr/bin/env node
// `npm run receiver`: a webhook receiver on 127.0.0.1 for trying the service without a tunnel. It
// answers CRC challenges, verifies both signatures of every delivery and prints what arrives.
import { readFileSync, watchFile } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatCrc, formatDelivery } from './lib/delivery-format.mjs';
import { startReceiver } from './lib/receiver.mjs';
import { consumerKey, signingKey } from './lib/webhook-signatures.mjs';

const HELP = `Usage: npm run receiver -- --secret <consumer secret> [options]

A webhook receiver on http://127.0.0.1:<port>/ (any path) for one app. It answers the service's CRC
challenges, verifies both signatures of every delivery, prints each delivery (time, event, for_user_id,
webhook-id and timestamp, both signature verdicts, the body) and answers 200, or 401 when a signature
it can check is wrong. Each CRC challenge is one line.

Options:
  --secret <secret>          the app's consumer secret (aae_cs_…): signs the CRC and
                             x-twitter-webhooks-signature. Required; repeat it during a consumer-secret
                             rotation to trust the old and the new one.
  --port <n>                 port to listen on (default 9000; 0 picks a free one and prints it)
  --signing-secret <whsec_…> a webhook's signing secret, for webhook-signature (Standard Webhooks).
                             Repeatable.
  --secrets-file <file>      more secrets, read at start and again whenever the file changes, one per
                             line: "<webhook id> whsec_…" (or a bare "whsec_…") for a webhook, anything
                             else is another consumer secret of the app; "#" starts a comment. The file
                             need not exist yet.
  -h, --help                 this text

The signing secret: POST /2/webhooks shows a webhook's signing secret only in its answer, after the
receiver has already passed the CRC, so the receiver cannot be started with it. Append it to the
--secrets-file instead (the running receiver picks it up within a quarter second and says so):
  echo "$WEBHOOK_ID $SIGNING_SECRET" >> receiver-secrets.txt
or restart the receiver with --signing-secret. Until it knows one, webhook-signature is printed as
"not checked" and deliveries are still answered 200.

Exit status 2 on a bad flag or secret.`;

/** @param {string} message */
function usageError(message) {
  console.error(`receiver: ${message}\nRun "npm run receiver -- --help" for the flags.`);
  process.exit(2);
}

/** @type {ReturnType<typeof parseArgs>['values']} */
let flags;
try {
  flags = parseArgs({
    options: {
      secret: { type: 'string', multiple: true },
      port: { type: 'string', default: '9000' },
      'signing-secret': { type: 'string', multiple: true },
      'secrets-file': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: false,
  }).values;
} catch (err) {
  usageError(/** @type {Error} */ (err).message);
  throw err; // not reached
}
if (flags.help) {
  console.log(HELP);
  process.exit(0);
}
const secrets = /** @type {string[]} */ (flags.secret ?? []);
const signingSecrets = /** @type {string[]} */ (flags['signing-secret'] ?? []);
const secretsFile = /** @type {string | undefined} */ (flags['secrets-file']);
const portText = String(flags.port);
const port = Number(portText);
if (!/^\d+$/.test(portText) || port > 65_535) usageError(`--port must be a number from 0 to 65535, not "${portText}"`);
if (secrets.length === 0) usageError('--secret <consumer secret> is required: the consumer_secret of the app that registers this receiver');
for (const s of secrets) {
  try {
    consumerKey(s);
  } catch (err) {
    usageError(`--secret: ${/** @type {Error} */ (err).message}`);
  }
}
for (const s of signingSecrets) {
  try {
    signingKey(s);
  } catch (err) {
    usageError(`--signing-secret "${s.slice(0, 12)}…": ${/** @type {Error} */ (err).message}`);
  }
}

const APP = 'app';
/** Every secret trusted so far, so a re-read of the secrets file adds only new ones. */
const trusted = new Set();
let signingSecretCount = 0;

const receiver = await startReceiver({
  port,
  keep: false,
  answer(delivery) {
    const { x, standard } = delivery.verdicts;
    const rejected = x !== 'valid' || (standard !== 'valid' && standard !== 'unchecked');
    const status = rejected ? 401 : 200;
    console.log(formatDelivery(delivery, status));
    return status;
  },
  onCrc: (crc, status) => console.log(formatCrc(crc, status)),
});

/** @param {string} secret @param {string} from */
function trustConsumerSecret(secret, from) {
  if (trusted.has(secret)) return;
  receiver.trustApp(APP, secret);
  trusted.add(secret);
  if (from) console.log(`receiver: now also trusting consumer secret ${secret.slice(0, 11)}… (${from})`);
}

/** @param {string} webhookId @param {string} secret @param {string} from */
function trustSigningSecret(webhookId, secret, from) {
  if (trusted.has(secret)) return;
  receiver.trustWebhook(webhookId, APP, secret);
  trusted.add(secret);
  signingSecretCount++;
  console.log(`receiver: now verifying webhook-signature with the signing secret of webhook ${webhookId} (${from})`);
}

/** Reads the secrets file (if it exists yet) and trusts what is new in it; bad lines are reported, not fatal. */
function readSecretsFile(/** @type {string} */ file) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (/** @type {NodeJS.ErrnoException} */ (err).code === 'ENOENT') return;
    console.error(`receiver: cannot read ${file}: ${/** @type {Error} */ (err).message}`);
    return;
  }
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const words = line.split(/\s+/);
    const where = `${file} line ${i + 1}`;
    try {
      if (words.length === 1 && words[0].startsWith('whsec_')) trustSigningSecret(`(${where})`, words[0], where);
      else if (words.length === 2 && words[1].startsWith('whsec_')) trustSigningSecret(words[0], words[1], where);
      else if (words.length === 1) trustConsumerSecret(words[0], where);
      else throw new Error('expected "<webhook id> whsec_…", "whsec_…" or a consumer secret');
    } catch (err) {
      console.error(`receiver: ${where} ignored: ${/** @type {Error} */ (err).message}`);
    }
  });
}

for (const s of secrets) trustConsumerSecret(s, '');
for (const [i, s] of signingSecrets.entries()) trustSigningSecret(`(--signing-secret #${i + 1})`, s, 'flag');
if (secretsFile) {
  readSecretsFile(secretsFile);
  watchFile(secretsFile, { interval: 250 }, () => readSecretsFile(secretsFile));
}

console.log(
  `receiver: listening on http://127.0.0.1:${receiver.port}/ for 1 app` +
    (signingSecretCount ? `, ${signingSecretCount} signing secret(s)` : ', no signing secret yet') +
    (secretsFile ? `; watching ${secretsFile} for more` : '') +
    '. Ctrl-C stops it.',
);
const stop = async () => {
  await receiver.close();
  process.exit(0);
};
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, stop);
// `kill` of a backgrounded `npm run receiver` ends npm and its shell but not this process (the shell
// does not pass the signal on), so stop as soon as the process that started this one is gone.
const parentPid = process.ppid;
setInterval(() => {
  try {
    process.kill(parentPid, 0);
  } catch {
    stop();
  }
}, 500).unref();
