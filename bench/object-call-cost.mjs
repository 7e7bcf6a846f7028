#!/usr/bin/env node
// What one Durable Object call costs the local runtime, apart from anything the service does: a trivial
// Worker (bench/call-cost) calls trivial objects that write 0, 1 or 10 rows per call, over 1 or 200
// objects, and this reads the wall time and workerd's CPU time (user + system, from /proc) per call.
// It explains the many-app scenarios of `npm run bench` (docs/scaling.md, "Why many small apps cost
// more"): there, the calls per delivery are what grows. Loopback only, bounded; inspector off.
//   node bench/object-call-cost.mjs        (CALL_COST_CALLS, default 5,000 per row of the table)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, ROOT } from '../scripts/lib/service.mjs';
import { loadRunStateRoot } from '../scripts/lib/state-root.mjs';

const CALLS = Number(process.env.CALL_COST_CALLS ?? 5000);
const CASES = [
  { rows: 0, objects: 1, concurrency: 10 },
  { rows: 0, objects: 200, concurrency: 10 },
  { rows: 1, objects: 1, concurrency: 10 },
  { rows: 1, objects: 200, concurrency: 10 },
  { rows: 1, objects: 200, concurrency: 1 },
  { rows: 10, objects: 200, concurrency: 10 },
];

/** CPU time (ms, user + system) of the live workerd processes started under this one. */
function workerdCpuMs() {
  const table = execFileSync('ps', ['-eo', 'pid=,ppid=,stat=,comm='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, ppid] of table) {
      if (mine.has(ppid) && !mine.has(pid)) {
        mine.add(pid);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const [pid, , stat, comm] of table) {
    if (!mine.has(pid) || !comm.includes('workerd') || stat.startsWith('Z')) continue;
    try {
      // Fields after the command name: utime and stime are the 12th and 13th.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

const { unstable_startWorker } = await import('wrangler');
const stateDir = mkdtempSync(join(loadRunStateRoot(process.env.CALL_COST_STATE_ROOT), 'aae-call-cost-'));
const port = await freePort();
const worker = await unstable_startWorker({
  config: join(ROOT, 'bench', 'call-cost', 'wrangler.toml'),
  dev: { inspector: false, persist: stateDir, server: { hostname: '127.0.0.1', port }, logLevel: 'warn', watch: false },
});
try {
  await worker.ready;
  console.log(`\n${CALLS} calls per row; wall and workerd CPU time per call\n`);
  console.log('| rows written per call | objects | calls at a time | wall ms per call | CPU ms per call |');
  console.log('|---|---|---|---|---|');
  for (const c of CASES) {
    const cpuBefore = workerdCpuMs();
    const res = await fetch(`http://127.0.0.1:${port}/?calls=${CALLS}&objects=${c.objects}&rows=${c.rows}&concurrency=${c.concurrency}`);
    const { ms } = /** @type {{ ms: number }} */ (await res.json());
    const cpu = workerdCpuMs() - cpuBefore;
    console.log(`| ${c.rows} | ${c.objects} | ${c.concurrency} | ${(ms / CALLS).toFixed(3)} | ${(cpu / CALLS).toFixed(3)} |`);
  }
} finally {
  await worker.dispose();
  rmSync(stateDir, { recursive: true, force: true });
}
