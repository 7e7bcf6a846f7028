import initSqlJs, { type SqlJsStatic } from 'sql.js';
import { AppObjectApi } from '../../src/app-object/app-object-api';
import type { DeliverySettings, ObjectPorts } from '../../src/app-object/ports';
import type { SignedRequest } from '../../src/app-object/signer';
import { AppStore } from '../../src/app-object/storage/app-store';
import { DeliveryRun } from '../../src/delivery/delivery-run';
import type { ObjectApi, RunItem } from '../../src/delivery/delivery-run-ports';
import type { DeliveryMessage, DeliveryPath, HandOut } from '../../src/domain/delivery-protocol';
import type { AttemptResult } from '../../src/domain/retry';
import { D1Model } from './d1-model';
import { checkIngest, checkMirrorWithinD1, checkPostStart, checkStreamWrites, type WithdrawalRecord } from './invariants';
import { type Deferred, deferred, InvariantViolation, Rng } from './scheduler';
import { SqlJsStorage } from './sqljs-storage';

/** Deliberate bugs the simulator must catch (docs/testing.md, "Simulator"). */
export type Mutation = 'no-fence' | 'no-write-ahead' | 'no-start-deadline';

export const SIM_SETTINGS: DeliverySettings = {
  deliveryTimeoutMs: 10_000,
  releaseLeaseMs: 120_000,
  handOutStartWindowMs: 3_000,
  reportGraceMs: 30_000,
  retryScheduleSeconds: [1, 3, 10],
  retention: { payloadMs: 5 * 86_400_000, ledgerMs: 400 * 86_400_000 },
  replayRatePerSecond: 2_500,
  slowWebhookMs: 1_000,
  stream: { maxConnections: 2, keepAliveMs: 15_000, maxLagBytes: 1_000_000 },
};
export const FENCE_MARGIN_MS = 1_000;
/** The consumer's clock may be off from the objects' by up to this (well inside the margin). */
const MAX_SKEW_MS = 400;

export interface SimStats {
  steps: number;
  ingested: number;
  handOuts: number;
  postsStarted: number;
  /** POSTs of developers' test events (app-level messages like revoke notices). */
  testPosts: number;
  notSent: number;
  withdrawals: number;
  /** Withdrawals that found hand-outs in their scope still able to start (the fence had to wait). */
  fencedWithdrawals: number;
  restarts: number;
  consumerDeaths: number;
  lostMessages: number;
  duplicatedMessages: number;
  failedRpcs: number;
  streamLines: number;
}

/** A client of an app's XAA stream, reading one chunk per step it is given. */
interface StreamReader {
  app: SimApp;
  gen: number;
  id: string;
  reader: ReadableStreamDefaultReader<Uint8Array>;
  reading: boolean;
  lines: number;
}

/** One app's object: its SQLite (sql.js), the real AppObjectApi over it, and the runtime state. */
export class SimApp {
  readonly sql: SqlJsStorage;
  readonly store: AppStore;
  api!: AppObjectApi;
  gen = 0;
  alarmAt: number | null = null;
  alarmRunning = false;
  readonly executing = new Set<{ aborted: boolean; fail: (err: unknown) => void }>();

  constructor(
    readonly id: string,
    sqlJs: SqlJsStatic,
  ) {
    this.sql = new SqlJsStorage(new sqlJs.Database());
    this.store = new AppStore(this.sql as unknown as SqlStorage);
    this.store.migrate();
  }
}

type PendingKind = 'sign' | 'enqueue' | 'rpcIn' | 'rpcOut' | 'post' | 'slow';
interface Pending {
  kind: PendingKind;
  /** Who is waiting for it: an app generation (`app:<id>:<gen>`), an invocation, or a route. */
  owner: string;
  fire(ok: boolean): void;
}

interface QueueMessage {
  body: DeliveryMessage;
  availableAt: number;
  attempts: number;
}

export class World {
  readonly rng: Rng;
  readonly d1 = new D1Model();
  readonly apps = new Map<string, SimApp>();
  readonly queues: Record<DeliveryPath, QueueMessage[]> = { fast: [], slow: [] };
  readonly pending: Pending[] = [];
  readonly timers: { at: number; fire: () => void }[] = [];
  readonly withdrawals: WithdrawalRecord[] = [];
  readonly startedByLane = new Map<string, number>();
  readonly deadOwners = new Set<string>();
  readonly invocations = new Map<string, { kill: () => void }>();
  readonly stats: SimStats = {
    steps: 0,
    ingested: 0,
    handOuts: 0,
    postsStarted: 0,
    testPosts: 0,
    notSent: 0,
    withdrawals: 0,
    fencedWithdrawals: 0,
    restarts: 0,
    consumerDeaths: 0,
    lostMessages: 0,
    duplicatedMessages: 0,
    failedRpcs: 0,
    streamLines: 0,
  };
  readonly streamReaders: StreamReader[] = [];
  /** Per app, the last stream ledger row already checked. */
  private readonly streamChecked = new Map<string, number>();
  now = 1_800_000_000_000;
  /** The first broken invariant; the run stops at the end of the step that found it. */
  violation: InvariantViolation | null = null;
  /** Faults are injected only while true; the drain at the end turns them off. */
  faults = true;
  private nextInvocation = 1;
  /** The last things that happened, printed with a violation (SIM_TRACE=1 keeps them). */
  readonly log: string[] = [];
  trace(line: string): void {
    if (!this.tracing) return;
    this.log.push(`${this.stats.steps} @${this.now - 1_800_000_000_000}: ${line}`);
    if (this.log.length > 50_000) this.log.shift();
  }
  tracing = false;

  /** Apps whose mirror may have changed this step: checked against D1 after it. */
  readonly dirty = new Set<string>();

  constructor(
    seed: number,
    private readonly sqlJs: SqlJsStatic,
    readonly mutation?: Mutation,
  ) {
    this.rng = new Rng(seed);
  }

  static async create(seed: number, mutation?: Mutation): Promise<World> {
    return new World(seed, await sqlJsOnce(), mutation);
  }

  // ---- objects ------------------------------------------------------------------------------

  addApp(id: string): SimApp {
    const app = new SimApp(id, this.sqlJs);
    this.apps.set(id, app);
    this.boot(app);
    return app;
  }

  /** A fresh instance of the object's code over the same storage: what a restart leaves. */
  private boot(app: SimApp): void {
    const gen = app.gen;
    const owner = `app:${app.id}:${gen}`;
    const live = () => app.gen === gen;
    const ports: ObjectPorts = {
      now: () => this.now,
      // The simulator's streams are read step by step; keep-alives are not what it checks.
      every: () => () => {},
      enqueue: (messages, path) => {
        const d = deferred<void>();
        this.pending.push({
          kind: 'enqueue',
          owner,
          fire: (ok) => {
            if (!ok) return d.reject(new Error('queue send failed'));
            for (const body of messages) this.queues[path].push({ body, availableAt: this.now, attempts: 0 });
            d.resolve();
          },
        });
        return d.promise;
      },
      wakeBy: async (at) => {
        if (live() && (app.alarmAt === null || app.alarmAt > at)) app.alarmAt = at;
      },
      setAlarm: async (at) => {
        if (live()) app.alarmAt = at;
      },
      sign: (_tenant, message, webhook) => {
        const d = deferred<SignedRequest>();
        const signed = {
          url: webhook.url,
          headers: { 'x-sim-app': app.id, 'webhook-id': message.webhook_message_id },
          body: message.payload ?? '',
        };
        this.pending.push({ kind: 'sign', owner, fire: () => d.resolve(signed) });
        return d.promise;
      },
    };
    app.api = new AppObjectApi(app.store, ports, SIM_SETTINGS);
    if (this.mutation === 'no-write-ahead') {
      // The bug this catches: the attempt reaches the ledger only when its outcome is reported.
      const ledger = app.store.ledger;
      const record = ledger.recordHandOut.bind(ledger);
      let fake = 1_000_000_000;
      ledger.recordHandOut = (entry) => (this.rng.chance(0.5) ? record(entry) : fake++);
    }
  }

  /** The object crashes and starts again: calls in progress fail, memory is gone, storage and alarm stay. */
  restart(app: SimApp): void {
    const owner = `app:${app.id}:${app.gen}`;
    app.gen++;
    this.stats.restarts++;
    for (const exec of app.executing) {
      exec.aborted = true;
      exec.fail(new Error('object restarted'));
    }
    app.executing.clear();
    this.dropPending((p) => p.owner === owner);
    // Its open streams die with it: their clients see the connection drop.
    for (const r of this.streamReaders.filter((r) => r.app === app)) this.dropReader(r);
    if (app.alarmRunning) {
      app.alarmRunning = false;
      app.alarmAt = this.now; // an interrupted alarm runs again
    }
    this.boot(app);
  }

  /**
   * An RPC to an app's object: in flight until the simulator delivers it, then executed by the
   * object's real code, its answer in flight until delivered (or lost) back to the caller.
   */
  call<T>(appId: string, owner: string, invoke: (api: AppObjectApi) => T | Promise<T>): Promise<Awaited<T>> {
    const answer = deferred<Awaited<T>>();
    this.pending.push({
      kind: 'rpcIn',
      owner,
      fire: (ok) => {
        const app = this.apps.get(appId);
        if (!app || !ok) {
          this.stats.failedRpcs++;
          return this.respond(owner, answer, () => answer.reject(new Error(app ? 'object unreachable' : 'no such object')));
        }
        this.trace(`rpc ${owner} -> ${appId}: ${invoke.toString().replace(/\s+/g, ' ').slice(0, 110)}`);
        const exec = { aborted: false, fail: (err: unknown) => this.respond(owner, answer, () => answer.reject(err)) };
        app.executing.add(exec);
        let result: Promise<Awaited<T>>;
        try {
          result = Promise.resolve(invoke(app.api)) as Promise<Awaited<T>>;
        } catch (err) {
          result = Promise.reject(err);
        }
        result.then(
          (value) => {
            if (exec.aborted) return;
            app.executing.delete(exec);
            this.dirty.add(appId);
            this.respond(owner, answer, () => answer.resolve(value));
          },
          (err) => {
            if (exec.aborted) return;
            app.executing.delete(exec);
            this.respond(owner, answer, () => answer.reject(err));
          },
        );
      },
    });
    return answer.promise;
  }

  private respond<T>(owner: string, answer: Deferred<T>, deliver: () => void): void {
    this.pending.push({
      kind: 'rpcOut',
      owner,
      fire: (ok) => {
        if (ok) return deliver();
        this.stats.failedRpcs++;
        answer.reject(new Error('answer lost'));
      },
    });
  }

  sleepUntil(at: number): Promise<void> {
    const d = deferred<void>();
    this.timers.push({ at, fire: () => d.resolve() });
    return d.promise;
  }

  runAlarm(app: SimApp): void {
    app.alarmAt = null;
    app.alarmRunning = true;
    const gen = app.gen;
    app.api.alarm().then(
      () => {
        if (app.gen === gen) app.alarmRunning = false;
      },
      () => {
        if (app.gen !== gen) return;
        app.alarmRunning = false;
        app.alarmAt = this.now + 1_000; // a failed alarm is retried
      },
    );
  }

  // ---- the queue and its consumers -----------------------------------------------------------

  /** One consumer invocation of `path`: a batch of ready messages, run by the real DeliveryRun. */
  startInvocation(path: DeliveryPath): void {
    const queue = this.queues[path];
    const ready = queue.filter((m) => m.availableAt <= this.now);
    if (ready.length === 0) return;
    const size = 1 + this.rng.int(path === 'fast' ? 20 : 6);
    const batch: QueueMessage[] = [];
    while (batch.length < size && ready.length > 0) {
      const [m] = ready.splice(this.rng.int(ready.length), 1);
      queue.splice(queue.indexOf(m), 1);
      if (this.faults && this.rng.chance(0.01)) {
        this.stats.lostMessages++; // lost (dead-lettered): the object's lease must recover it
        continue;
      }
      if (this.faults && this.rng.chance(0.02)) {
        this.stats.duplicatedMessages++;
        queue.push({ ...m }); // delivered twice
      }
      if (this.faults && this.rng.chance(0.01) && this.apps.size > 1) {
        // Misrouted to another app's object: that object must hand nothing out for it.
        const others = [...this.apps.keys()].filter((id) => id !== m.body.app);
        batch.push({ ...m, body: { ...m.body, app: this.rng.pick(others) } });
      }
      batch.push(m);
    }
    if (batch.length === 0) return;
    const id = `inv${this.nextInvocation++}`;
    const skew = this.rng.int(2 * MAX_SKEW_MS + 1) - MAX_SKEW_MS;
    const settled = new Set<QueueMessage>();
    const items: RunItem[] = batch.map((m) => ({
      body: m.body,
      ack: () => {
        settled.add(m);
      },
      retry: (delaySeconds) => {
        if (settled.has(m)) return;
        settled.add(m);
        this.requeue(path, m, delaySeconds * 1000);
      },
    }));
    const objectApi = (appId: string): ObjectApi => ({
      claim: (app, messages, capacity, pull) => this.call(appId, id, (api) => api.claim(app, messages, capacity, pull)),
      report: (app, reports, options) => this.call(appId, id, (api) => api.report(app, reports, options)),
      returnUnclaimed: (app, messages) => this.call(appId, id, (api) => api.returnUnclaimed(app, messages)),
    });
    const Run = this.mutation === 'no-start-deadline' ? DeadlineIgnoringRun : DeliveryRun;
    const run = new Run(
      {
        now: () => this.now + skew,
        object: objectApi,
        post: (handOut, onSlow) => this.post(id, handOut, onSlow),
        markGone: async (appId, webhookIds, at) => {
          for (const w of webhookIds) {
            const webhook = this.d1.webhooks.get(w);
            if (webhook?.appId === appId && webhook.validAt <= at) {
              webhook.valid = false;
              webhook.validAt = at;
            }
          }
        },
        after: (ms, fn) => {
          const timer = { at: this.now + ms, fire: () => !this.deadOwners.has(id) && fn() };
          this.timers.push(timer);
          return () => {
            const i = this.timers.indexOf(timer);
            if (i >= 0) this.timers.splice(i, 1);
          };
        },
        log: () => {},
      },
      items,
      { budgetMs: path === 'fast' ? 20_000 : 60_000, path },
    );
    this.invocations.set(id, {
      kill: () => {
        this.stats.consumerDeaths++;
        this.deadOwners.add(id);
        this.dropPending((p) => p.owner === id);
        // The invocation failed: every message it did not settle comes back.
        for (const m of batch) if (!settled.has(m)) this.requeue(path, m, 0);
        this.invocations.delete(id);
      },
    });
    run.run().then(() => {
      if (this.deadOwners.has(id)) return;
      this.invocations.delete(id); // returned normally: what it did not retry is acknowledged
    });
  }

  private requeue(path: DeliveryPath, m: QueueMessage, delayMs: number): void {
    if (m.attempts + 1 > 10) {
      this.stats.lostMessages++; // dead-lettered after max retries
      return;
    }
    this.queues[path].push({ body: m.body, availableAt: this.now + delayMs, attempts: m.attempts + 1 });
  }

  /** A POST starts now: the moment every promise about it is checked. It finishes when the simulator says. */
  private post(owner: string, handOut: HandOut, onSlow: () => void): Promise<AttemptResult> {
    const app = this.apps.get(handOut.headers['x-sim-app']);
    if (!app) {
      this.guard(() => {
        throw new InvariantViolation('isolation', `POST of ${handOut.deliveryId} signed for no known app`);
      });
      return Promise.reject(new Error('unreachable'));
    }
    this.stats.postsStarted++;
    if (app.store.outbox.message(handOut.seq)?.kind === 'test') this.stats.testPosts++;
    this.guard(() => checkPostStart(app, this.d1, handOut, this.now, this.withdrawals, this.startedByLane));
    const started = this.now;
    const d = deferred<AttemptResult>();
    let done = false;
    this.pending.push({
      kind: 'post',
      owner,
      fire: () => {
        done = true;
        d.resolve(this.outcome(started));
      },
    });
    // Now and then a POST is slow to answer: its webhook turns slow and its fast-queue work moves over.
    if (this.rng.chance(0.04)) this.pending.push({ kind: 'slow', owner, fire: () => !done && onSlow() });
    return d.promise;
  }

  private outcome(started: number): AttemptResult {
    const latencyMs = Math.max(1, this.now - started);
    if (!this.faults) return { status: 200, latencyMs };
    const kind = this.rng.weighted({ ok: 70, server: 10, busy: 3, gone: 0.5, timeout: 8, network: 5 });
    switch (kind) {
      case 'ok':
        return { status: 200, latencyMs };
      case 'server':
        return { status: 500, latencyMs };
      case 'busy':
        return { status: 429, latencyMs, retryAfter: String(1 + this.rng.int(5)) };
      case 'gone':
        return { status: 410, latencyMs };
      case 'timeout':
        return { error: 'timeout: no answer within 10000 ms', latencyMs: 10_000 };
      default:
        return { error: 'network: connection reset', latencyMs };
    }
  }

  dropPending(match: (p: Pending) => boolean): void {
    for (let i = this.pending.length - 1; i >= 0; i--) if (match(this.pending[i])) this.pending.splice(i, 1);
  }

  /** Fires one pending item; with faults on, an RPC or a queue send may fail. */
  firePending(index: number): void {
    const [item] = this.pending.splice(index, 1);
    if (this.deadOwners.has(item.owner) && item.kind === 'rpcOut') return;
    const failure = item.kind === 'rpcIn' || item.kind === 'rpcOut' ? 0.02 : item.kind === 'enqueue' ? 0.03 : 0;
    item.fire(!(this.faults && this.rng.chance(failure)));
  }

  /** Runs a check; the first violation is kept, and the run stops at the end of the step. */
  guard(check: () => void): void {
    try {
      check();
    } catch (err) {
      if (!(err instanceof InvariantViolation)) throw err;
      this.violation ??= err;
    }
  }

  /** Checks the mirrors of the apps this step touched. */
  checkDirty(): void {
    for (const id of this.dirty) this.guard(() => checkMirrorWithinD1(this.apps.get(id)!, this.d1));
    this.dirty.clear();
  }

  /** One step of a stream client: connect (maybe with backfill), read one chunk, or go away. */
  streamStep(): void {
    const idle = this.streamReaders.filter((r) => !r.reading);
    if (idle.length === 0 || this.rng.chance(0.1)) {
      const app = this.rng.pick([...this.apps.values()]);
      const gen = app.gen;
      const from = this.rng.chance(0.3) ? this.now - 300_000 : null;
      app.api.openStream(app.id, { from, endAt: null }).then((opened) => {
        if (!('stream' in opened) || app.gen !== gen) return;
        this.streamReaders.push({ app, gen, id: opened.id, reader: opened.stream.getReader(), reading: false, lines: 0 });
      });
      return;
    }
    const r = this.rng.pick(idle);
    if (this.rng.chance(0.05)) {
      void r.app.api.closeStream(r.app.id, r.id);
      this.dropReader(r);
      return;
    }
    r.reading = true;
    r.reader.read().then(
      ({ done, value }) => {
        r.reading = false;
        if (done) return this.dropReader(r);
        const lines = new TextDecoder()
          .decode(value)
          .split('\r\n')
          .filter((l) => l.startsWith('{"data"'));
        r.lines += lines.length;
        this.stats.streamLines += lines.length;
        // Recorded before it acts: every line the client got is on the ledger, for this connection.
        const recorded = r.app.sql.exec<{ n: number }>('SELECT count(*) AS n FROM ledger WHERE url = ?', `stream:${r.id}`).one().n;
        if (recorded < r.lines) {
          this.guard(() => {
            throw new InvariantViolation('write-ahead', `app ${r.app.id} stream ${r.id}: ${r.lines} lines read, ${recorded} on the ledger`);
          });
        }
      },
      () => this.dropReader(r),
    );
  }

  private dropReader(r: StreamReader): void {
    const i = this.streamReaders.indexOf(r);
    if (i !== -1) this.streamReaders.splice(i, 1);
    r.reader.cancel().catch(() => {});
  }

  /** Checks the lines each app wrote to its streams this step. */
  checkStreams(): void {
    for (const app of this.apps.values()) {
      this.guard(() =>
        this.streamChecked.set(app.id, checkStreamWrites(app, this.d1, this.withdrawals, this.streamChecked.get(app.id) ?? 0)),
      );
    }
  }

  checkIngest(appId: string, eventId: string): void {
    this.guard(() => checkIngest(this.apps.get(appId)!, this.d1, eventId, this.now));
  }
}

/** The bug this catches: a consumer that starts a hand-out whenever it gets to it. */
class DeadlineIgnoringRun extends DeliveryRun {
  protected override startAllowed(): boolean {
    return true;
  }
}

let sqlJsPromise: Promise<SqlJsStatic> | null = null;
const sqlJsOnce = () => {
  sqlJsPromise ??= initSqlJs();
  return sqlJsPromise;
};
