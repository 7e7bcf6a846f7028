// Starts and stops the service for end-to-end tests, benchmarks and fault runs. Loopback only.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WRANGLER_ENV } from '../wrangler-env.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRANGLER = join(ROOT, 'node_modules', '.bin', 'wrangler');
Object.assign(process.env, WRANGLER_ENV);

/** @returns {Promise<number>} a port that was free a moment ago on 127.0.0.1 */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (/** @type {number} */ ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntilUp(baseUrl, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error('the service exited before it answered');
    try {
      const res = await fetch(`${baseUrl}/`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not up yet
    }
    await sleep(250);
  }
  throw new Error(`service at ${baseUrl} did not answer within ${timeoutMs} ms`);
}

/** The group id of a child started with `detached: true` (its own process group), for kill(-group). */
function processGroupOf(/** @type {import('node:child_process').ChildProcess} */ child) {
  if (child.pid === undefined) throw new Error(`could not start ${child.spawnfile}`);
  return child.pid;
}

/**
 * The service as a newcomer starts it: `node scripts/dev.mjs` (what `npm run dev` runs), in its own
 * process group so that stopping it also stops wrangler's workerd children. `vars` override settings
 * (wrangler dev's `--var`).
 * @param {{ stateDir: string, port?: number, log?: boolean, vars?: Record<string, string | number> }} options
 */
export async function startDevService({ stateDir, port, log = false, vars = {} }) {
  port ??= await freePort();
  const varArgs = Object.entries(vars).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'dev.mjs'), ...varArgs], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), AAE_STATE_DIR: stateDir, CI: 'true' },
    detached: true,
    stdio: ['ignore', log ? 'inherit' : 'pipe', log ? 'inherit' : 'pipe'],
  });
  const group = processGroupOf(child);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  let exited = false;
  child.on('exit', () => (exited = true));
  const stop = async () => {
    if (exited) return;
    try {
      process.kill(-group, 'SIGTERM');
    } catch {
      return;
    }
    const deadline = Date.now() + 5000;
    while (!exited && Date.now() < deadline) await sleep(100);
    if (!exited) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(baseUrl, 90_000, () => !exited);
  } catch (err) {
    await stop();
    throw new Error(`${/** @type {Error} */ (err).message}\n--- service output ---\n${output.slice(-4000)}`);
  }
  const platformToken = readFileSync(join(ROOT, '.dev.vars'), 'utf8')
    .match(/^PLATFORM_TOKEN=(.*)$/m)?.[1]
    ?.trim();
  if (!platformToken) {
    await stop();
    throw new Error('.dev.vars has no PLATFORM_TOKEN= line (scripts/dev.mjs writes one when the file is missing)');
  }
  return { baseUrl, platformToken, stop, output: () => output, pid: child.pid };
}

/**
 * The service through wrangler's programmatic API with the devtools inspector off (it slows D1 and
 * outbound fetch several-fold and leaks sockets under load: docs/testing.md, "Why the inspector is off").
 * `inspectorPort` turns the inspector on, for `bench/profile.mjs` only: its figures are relative.
 * @param {{ stateDir: string, port?: number, vars?: Record<string, string | number>, platformToken?: string, inspectorPort?: number }} options
 */
export async function startFastService({ stateDir, port, vars = {}, platformToken: givenToken, inspectorPort }) {
  port ??= await freePort();
  const migrate = spawnSync(WRANGLER, ['d1', 'migrations', 'apply', 'DB', '--local', '--persist-to', stateDir], {
    cwd: ROOT,
    env: { ...process.env, CI: 'true' },
    encoding: 'utf8',
  });
  if (migrate.status !== 0) throw new Error(`migrations failed:\n${migrate.stdout}\n${migrate.stderr}`);
  const { unstable_startWorker } = await import('wrangler');
  const platformToken = givenToken ?? `aae_pt_${randomBytes(24).toString('base64url')}`;
  const bindings = {
    PLATFORM_TOKEN: { type: 'plain_text', value: platformToken },
    ALLOW_INSECURE_WEBHOOKS: { type: 'plain_text', value: 'true' },
  };
  // Load runs create and subscribe far more than X's per-15-minute figures allow one app.
  const loadLimits = {
    'subscriptions:create': 1e9,
    'webhooks:create': 1e6,
    'platform:other': 1e9,
    'platform:ingest': 1e9,
    'oauth2:token': 1e6,
    replay: 1e6,
  };
  bindings.RATE_LIMITS = { type: 'plain_text', value: JSON.stringify(loadLimits) };
  for (const [name, value] of Object.entries(vars)) bindings[name] = { type: 'plain_text', value: String(value) };
  const worker = await unstable_startWorker({
    config: join(ROOT, 'wrangler.toml'),
    bindings,
    dev: {
      inspector: inspectorPort ? { port: inspectorPort } : false,
      persist: stateDir,
      server: { hostname: '127.0.0.1', port },
      logLevel: 'warn',
      watch: false,
      // Load tools run the minute cron on demand (GET /__scheduled), as a deployment's trigger would.
      testScheduled: true,
    },
  });
  await worker.ready;
  const baseUrl = `http://127.0.0.1:${port}`;
  await waitUntilUp(baseUrl, 60_000);
  const runMinuteCron = async () => {
    const res = await fetch(`${baseUrl}/__scheduled?cron=${encodeURIComponent('* * * * *')}`);
    await res.text(); // read to the end: a cancelled body resets the connection, which workerd logs as an error
    if (!res.ok) throw new Error(`the minute cron answered ${res.status}`);
  };
  return { baseUrl, platformToken, stop: () => worker.dispose(), runMinuteCron };
}

/**
 * The fast service in a child process of its own process group, so a fault run can SIGKILL it (and
 * its workerd) and start it again on the same state.
 * @param {{ stateDir: string, port: number, vars?: Record<string, string>, platformToken: string }} options
 */
export async function startServiceProcess({ stateDir, port, vars = {}, platformToken }) {
  const child = spawn(process.execPath, [join(ROOT, 'scripts', 'lib', 'worker-process.mjs')], {
    cwd: ROOT,
    env: {
      ...process.env,
      AAE_STATE_DIR: stateDir,
      AAE_PORT: String(port),
      AAE_VARS: JSON.stringify(vars),
      AAE_PLATFORM_TOKEN: platformToken,
    },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exited = false;
  child.on('exit', () => (exited = true));
  child.stderr.on('data', (d) => (output += d));
  const group = processGroupOf(child);
  /** @type {Promise<void>} */
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service process did not start:\n${output.slice(-3000)}`)), 120_000);
    child.stdout.on('data', (d) => {
      output += d;
      if (output.includes('READY')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.on('exit', () => reject(new Error(`service process exited:\n${output.slice(-3000)}`)));
  });
  await ready;
  const signal = async (/** @type {NodeJS.Signals} */ sig) => {
    if (exited) return;
    try {
      process.kill(-group, sig);
    } catch {
      return;
    }
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) await sleep(50);
  };
  return { baseUrl: `http://127.0.0.1:${port}`, kill: () => signal('SIGKILL'), stop: () => signal('SIGTERM') };
}
