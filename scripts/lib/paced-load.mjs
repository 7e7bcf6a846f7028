// A paced stream of single-activity ingests, generated on a thread of its own. The bench's receiver
// answers webhooks on the main thread; if the same event loop also had to send hundreds of ingests a
// second, the receiver would answer late and the service would be measured against a slow receiver
// it did not make slow. A real platform and a real receiver are different machines.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { client } from './client.mjs';

/**
 * Posts `count` tweet_create activities at `rate` per second, the i-th by `users[i % users.length]`
 * with id and text `${prefix}${i}`, each ingest started on time and not awaited by the next.
 * Resolves with when each was sent (ms since the epoch), by id, once every ingest has answered.
 * @param {{ baseUrl: string, platformToken: string, users: string[], prefix: string, rate: number, count: number }} options
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
  const { baseUrl, platformToken, users, prefix, rate, count } = workerData;
  const api = client(baseUrl, platformToken);
  /** @type {[string, number][]} */
  const sent = [];
  const pending = [];
  const started = Date.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `${prefix}${i}`;
    sent.push([id, Date.now()]);
    const user = users[i % users.length];
    pending.push(
      api.ingest([{ id, type: 'tweet_create', tweet: { id: '1', text: id, author: { id: user, name: 'n', screen_name: 's' } } }]),
    );
  }
  await Promise.all(pending);
  parentPort?.postMessage(sent);
}
