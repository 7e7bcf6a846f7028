// A paced stream of single-activity ingests, generated on a thread of its own. The bench's receiver
// answers webhooks on the main thread; if the same event loop also had to send hundreds of ingests a
// second, the receiver would answer late and the service would be measured against a slow receiver
// it did not make slow. A real platform and a real receiver are different machines.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { client } from './client.mjs';

/**
 * Posts `count` tweet_create activities at `rate` per second, the i-th by `users[i % users.length]`
 * with id and text `${prefix}${i}`, each ingest started on time and not awaited by the next. With
 * `batchMs`, the activities that fall due within each window of that length are posted together at
 * its end, as a platform that batches would; an activity's time is still when it fell due, so the wait
 * for its batch counts against its latency. Resolves with when each fell due (ms since the epoch), by
 * id, once every ingest has answered.
 * @param {{ baseUrl: string, platformToken: string, users: string[], prefix: string, rate: number, count: number, batchMs?: number }} options
 * @returns {Promise<Map<string, number>>}
 */
export function pacedIngest(options) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: options });
    worker.once('message', (/** @type {[string, number][]} */ sent) => resolve(new Map(sent)));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`paced ingest thread exited with ${code}`));
    });
  });
}

if (!isMainThread) {
  const { baseUrl, platformToken, users, prefix, rate, count, batchMs = 0 } = workerData;
  const api = client(baseUrl, platformToken);
  const sleep = (/** @type {number} */ ms) => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());
  const activity = (/** @type {number} */ i) => {
    const id = `${prefix}${i}`;
    const author = { id: users[i % users.length], name: 'n', screen_name: 's' };
    return { id, type: 'tweet_create', tweet: { id: '1', text: id, author } };
  };
  /** @type {[string, number][]} */
  const sent = [];
  const pending = [];
  const started = Date.now();
  const dueAt = (/** @type {number} */ i) => started + (i * 1000) / rate;
  for (let i = 0; i < count; ) {
    await sleep(dueAt(i) - Date.now());
    if (batchMs <= 0) {
      sent.push([`${prefix}${i}`, Date.now()]);
      pending.push(api.ingest([activity(i)]));
      i++;
      continue;
    }
    // Everything falling due in this window goes in one post at its end.
    const windowEnd = dueAt(i) + batchMs;
    const batch = [];
    for (; i < count && dueAt(i) < windowEnd && batch.length < 100; i++) {
      sent.push([`${prefix}${i}`, dueAt(i)]);
      batch.push(activity(i));
    }
    await sleep(windowEnd - Date.now());
    pending.push(api.ingest(batch));
  }
  await Promise.all(pending);
  parentPort?.postMessage(sent);
}
