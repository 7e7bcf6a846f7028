#!/usr/bin/env node
// `npm run dev`: first-run setup (.dev.vars with a random platform token and session secret, the
// development login on; lines a later version needs are added), local D1 migrations, then
// `wrangler dev` on http://127.0.0.1:8787. PORT overrides the port; AAE_STATE_DIR keeps local state
// (D1, Durable Objects, queues) in another folder than .wrangler/state (tests use a fresh one).
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRANGLER_ENV } from './wrangler-env.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wrangler = join(root, 'node_modules', '.bin', 'wrangler');
const env = { ...process.env, ...WRANGLER_ENV };
const port = process.env.PORT ?? '8787';
const devVars = join(root, '.dev.vars');
const persist = process.env.AAE_STATE_DIR ? ['--persist-to', process.env.AAE_STATE_DIR] : [];

/**
 * What local development needs in .dev.vars: each line's comment, name and first value.
 * @type {{ comment: string, name: string, value: () => string }[]}
 */
const DEV_VARS = [
  { comment: '', name: 'PLATFORM_TOKEN', value: () => `aae_pt_${randomBytes(32).toString('base64url')}` },
  {
    comment: '# Local development only: lets webhooks be http://127.0.0.1:<port>/... (never set this in production).',
    name: 'ALLOW_INSECURE_WEBHOOKS',
    value: () => 'true',
  },
  {
    comment: '# Signs user sessions on the consent and Connected apps pages.',
    name: 'SESSION_SECRET',
    value: () => randomBytes(32).toString('base64url'),
  },
  {
    comment: '# Local development only: a sign-in page where you pick a user id (never set this in production).',
    name: 'DEV_LOGIN',
    value: () => 'true',
  },
];
const existing = existsSync(devVars) ? readFileSync(devVars, 'utf8') : null;
const missing = DEV_VARS.filter(({ name }) => !new RegExp(`^${name}=`, 'm').test(existing ?? ''));
if (missing.length > 0) {
  const lines = missing.map(({ comment, name, value }) => `${comment ? `${comment}\n` : ''}${name}=${value()}\n`).join('');
  const header = existing === null ? '# Local secrets and settings for wrangler dev (git-ignored). Created by npm run dev.\n' : '';
  const separator = existing && !existing.endsWith('\n') ? '\n' : '';
  writeFileSync(devVars, `${existing ?? ''}${separator}${header}${lines}`, { mode: 0o600 });
  console.log(`${existing === null ? 'Created' : 'Added to'} .dev.vars: ${missing.map(({ name }) => name).join(', ')}.`);
}
const token = readFileSync(devVars, 'utf8')
  .match(/^PLATFORM_TOKEN=(.*)$/m)?.[1]
  ?.trim();
console.log(`Platform token (Authorization: Bearer …): ${token ?? '(PLATFORM_TOKEN missing from .dev.vars)'}`);

// Wrangler reprints its migration table after every migration it applies; one summary line says as
// much. Its full output is shown only when it fails.
const migrate = spawnSync(wrangler, ['d1', 'migrations', 'apply', 'DB', '--local', ...persist], { cwd: root, env, encoding: 'utf8' });
if (migrate.status !== 0) {
  process.stdout.write(migrate.stdout ?? '');
  process.stderr.write(migrate.stderr ?? '');
  console.error('Local D1 migrations failed (output above).');
  process.exit(migrate.status ?? 1);
}
const applied = [...new Set(migrate.stdout.match(/\b\d{4}_[\w-]+\.sql\b/g) ?? [])];
console.log(
  applied.length ? `Local D1: applied ${applied.length} migration(s): ${applied.join(', ')}.` : 'Local D1: migrations up to date.',
);

const extra = process.argv.slice(2);
const child = spawn(wrangler, ['dev', '--ip', '127.0.0.1', '--port', port, ...persist, ...extra], { cwd: root, env, stdio: 'inherit' });
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
