#!/usr/bin/env node
// Where the local runtime's CPU goes during one bench scenario: runs it with the inspector on, takes a
// sampling CPU profile of the Worker's isolate (the Worker, its consumers and every app's object share
// it), and prints self time by function and by source file. Timings under the inspector are slower than
// the bench's; read the shares, not the totals. Loopback only, bounded.
//   node bench/profile.mjs [APPSxUSERS] [flood|paced|replay]   (default 50x20 flood)
// `replay` delivers the events unprofiled, then profiles a replay of all of them to the first app's
// webhook (waiting up to a minute first: replay windows are whole minutes).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { client } from '../scripts/lib/client.mjs';
import { startReceiver } from '../scripts/lib/receiver.mjs';
import { freePort, startFastService } from '../scripts/lib/service.mjs';
import { loadRunStateRoot } from '../scripts/lib/state-root.mjs';
import { pump, setUpTenants, startReplayOfLastHour, waitUntil } from './measure.mjs';

const [apps, usersPerApp] = (process.argv[2] ?? '50x20').split('x').map(Number);
const mode = process.argv[3] ?? 'flood';
const paced = mode === 'paced';
const EVENTS = Number(process.env.PROFILE_EVENTS ?? 3000);

async function inspect(port) {
  const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();
  const target = targets.find((t) => t.webSocketDebuggerUrl) ?? targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  let id = 0;
  const waiting = new Map();
  ws.on('message', (data) => {
    const msg = JSON.parse(String(data));
    if (msg.id && waiting.has(msg.id)) {
      waiting.get(msg.id)(msg);
      waiting.delete(msg.id);
    }
  });
  const send = (method, params = {}) =>
    new Promise((resolve) => {
      const n = ++id;
      waiting.set(n, resolve);
      ws.send(JSON.stringify({ id: n, method, params }));
    });
  return { send, close: () => ws.close(), target: target.title ?? target.url };
}

function summarizeProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const total = profile.samples.length;
  for (const id of profile.samples) self.set(id, (self.get(id) ?? 0) + 1);
  const fileOf = (f) => (f.url || '(native)').replace(/^.*\/(src|node_modules)\//, '$1/');
  const nameOf = (n) => `${n.callFrame.functionName || '(anonymous)'} ${fileOf(n.callFrame)}:${n.callFrame.lineNumber + 1}`;
  const byFn = new Map();
  const byFile = new Map();
  for (const [id, count] of self) {
    const node = byId.get(id);
    byFn.set(nameOf(node), (byFn.get(nameOf(node)) ?? 0) + count);
    byFile.set(fileOf(node.callFrame), (byFile.get(fileOf(node.callFrame)) ?? 0) + count);
  }
  const top = (m, n) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, v]) => `${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`)
      .join('\n');
  // Inclusive: each sample counts once for every distinct function on its stack.
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const inclusive = new Map();
  for (const [id, count] of self) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const key = nameOf(byId.get(at));
      if (seen.has(key)) continue;
      seen.add(key);
      inclusive.set(key, (inclusive.get(key) ?? 0) + count);
    }
  }
  return `samples: ${total}\n\nby function (inclusive):\n${top(inclusive, 60)}\n\nby function (self):\n${top(byFn, 45)}\n\nby file (self):\n${top(byFile, 30)}`;
}

// Under the inspector, wrangler source-maps worker logs with a module it sometimes cannot resolve; a
// lost log line must not end the profile.
let droppedLogs = 0;
process.on('uncaughtException', (err) => {
  if (String(err?.message).includes('source-map-support')) droppedLogs++;
  else throw err;
});

async function main() {
  setTimeout(() => {
    console.error('profile: time limit (8 min) exceeded');
    process.exit(2);
  }, 480_000).unref();
  const stateDir = mkdtempSync(join(loadRunStateRoot(process.env.PROFILE_STATE_ROOT), 'aae-profile-'));
  const inspectorPort = await freePort();
  const arrivals = new Set();
  let replayed = 0;
  let replayDone = false;
  const receiver = await startReceiver({
    keep: false,
    onDelivery: (d) => {
      if (d.json?.replay_job_status) replayDone = true;
      else if (d.headers?.['x-replay-job-id']) replayed++;
      else arrivals.add(d.json?.tweet_create_events?.[0]?.text);
    },
  });
  const service = await startFastService({ stateDir, inspectorPort });
  const api = client(service.baseUrl, service.platformToken);
  try {
    const tenants = await setUpTenants(api, receiver, apps, usersPerApp);
    const users = tenants.flatMap((t) => t.users);
    const ids = Array.from({ length: EVENTS }, (_, i) => `p-${i}`);
    const post = (chunk) =>
      api.ingest(
        chunk.map((id) => ({
          id,
          type: 'tweet_create',
          tweet: { id: '1', text: id, author: { id: users[(Number(id.slice(2)) * 7919) % users.length], name: 'n', screen_name: 's' } },
        })),
      );
    if (mode === 'replay') {
      await pump(ids, post, null);
      await waitUntil(() => ids.every((id) => arrivals.has(id)), 180_000);
      console.error(`profile: ${EVENTS} events delivered; the replay starts at the next minute`);
    }
    console.error(`profile: ${apps} apps set up; connecting to the inspector`);
    const inspector = await inspect(inspectorPort);
    await inspector.send('Profiler.enable');
    await inspector.send('Profiler.setSamplingInterval', { interval: 200 });
    console.error(`profile: profiling ${inspector.target}`);
    let started = Date.now();
    if (mode === 'replay') {
      await startReplayOfLastHour(api, tenants[0]);
      await inspector.send('Profiler.start');
      started = Date.now();
      await waitUntil(() => replayDone, 180_000);
    } else {
      await inspector.send('Profiler.start');
      await pump(ids, post, paced ? 500 : null);
      await waitUntil(() => ids.every((id) => arrivals.has(id)), 180_000);
    }
    const seconds = (Date.now() - started) / 1000;
    const { result } = await inspector.send('Profiler.stop');
    inspector.close();
    writeFileSync(join(tmpdir(), 'aae-profile.cpuprofile'), JSON.stringify(result.profile));
    console.log(
      `${apps}x${usersPerApp} ${mode}: ${mode === 'replay' ? `${replayed} copies` : EVENTS} in ${seconds.toFixed(1)} s under the inspector`,
    );
    console.log(summarizeProfile(result.profile));
    if (droppedLogs) console.log(`\nworker log lines wrangler could not source-map (dropped): ${droppedLogs}`);
  } finally {
    await service.stop();
    await receiver.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
