// Where load runs keep the local runtime's state (bench, profile, call cost).
import { accessSync, constants, statSync } from 'node:fs';
import { tmpdir } from 'node:os';

/**
 * The directory load runs put the local runtime's state in: `override` if given, else /dev/shm (memory)
 * where the machine has one, else the system's temporary directory.
 *
 * Why memory: locally every app object's SQLite database is a file, and the runtime syncs it to disk
 * on every transaction on the one thread that runs the Worker and every object; on this machine's
 * virtual disk that is about 0.25 ms per object call that writes (bench/object-call-cost.mjs), against
 * 0.06 ms in memory. On Cloudflare an object's writes are made durable by replicas while its code runs
 * on (the output gate holds only its own answers), and each object has a thread of its own, so one
 * app's commit never waits on another's disk. Kept on disk, the bench measures this machine's disk sync
 * shared by every app, not the service. The floor runs on the same root. docs/testing.md gives figures for both.
 * @param {string | undefined} override
 */
export function loadRunStateRoot(override) {
  if (override) return override;
  try {
    if (statSync('/dev/shm').isDirectory()) {
      accessSync('/dev/shm', constants.W_OK);
      return '/dev/shm';
    }
  } catch {
    // no /dev/shm here
  }
  return tmpdir();
}
