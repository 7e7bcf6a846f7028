import { checkQuiescent } from './invariants';
import { Platform } from './platform';
import { settle } from './scheduler';
import { type Mutation, type SimStats, World } from './world';

export interface SimResult {
  seed: number;
  stats: SimStats;
  /** Wall-clock time of the run, for the steps-per-second figure. */
  ms: number;
}

/**
 * One simulated run (docs/testing.md, "Simulator"): three apps whose webhooks share URLs, eight
 * users with Account Activity and X Activity API subscriptions (webhooks and streams), random
 * activity, random control-plane changes, consumers with skewed clocks, and faults
 * (lost and duplicated queue messages, failed and lost RPCs, object restarts, consumer deaths, failed
 * queue sends, clock jumps). Each step is one choice of the seeded random source; the invariants are
 * checked as things happen and after every step. Then faults stop, everything drains, and nothing
 * may be lost and D1 and every object must agree.
 */
export interface SimOptions {
  seed: number;
  steps: number;
  mutation?: Mutation;
  trace?: boolean;
  /** Weight of control-plane changes (withdrawals among them) per step; 2 unless a run wants more races. */
  changeWeight?: number;
}

export async function simulate(options: SimOptions): Promise<SimResult> {
  // The faults are injected on purpose; the code under test logs them (a failed queue send, say).
  const logError = console.error;
  console.error = () => {};
  try {
    return await run(options);
  } finally {
    console.error = logError;
  }
}

async function run(options: SimOptions): Promise<SimResult> {
  const started = Date.now();
  const world = await World.create(options.seed, options.mutation);
  const platform = new Platform(world, 8);
  await platform.setup(3, 2);
  let inFlight = 0;
  const track = (p: Promise<void>) => {
    inFlight++;
    p.catch(() => {}).finally(() => inFlight--);
  };
  world.tracing = options.trace ?? false;
  const stop = () => {
    if (!world.violation) return;
    const trace = world.tracing ? `\n${world.log.join('\n')}` : '';
    throw new Error(`${world.violation.message} (seed ${options.seed}, step ${world.stats.steps})${trace}`);
  };

  for (let step = 0; step < options.steps; step++) {
    world.stats.steps++;
    world.now += 1;
    const { rng } = world;
    const dueTimers = world.timers.filter((t) => t.at <= world.now);
    const dueAlarms = [...world.apps.values()].filter((a) => a.alarmAt !== null && a.alarmAt <= world.now && !a.alarmRunning);
    const ready = world.queues.fast.length + world.queues.slow.length > 0;
    const action = rng.weighted({
      ingest: 8,
      change: options.changeWeight ?? 2,
      batch: ready ? 6 : 0,
      pending: world.pending.length > 0 ? 40 : 0,
      timer: dueTimers.length > 0 ? 5 : 0,
      alarm: dueAlarms.length > 0 ? 4 : 0,
      jump: 1.5,
      restart: 0.15,
      kill: world.invocations.size > 0 ? 0.2 : 0,
      stream: 1,
    });
    switch (action) {
      case 'ingest':
        track(platform.ingest());
        break;
      case 'change':
        track(platform.randomChange());
        break;
      case 'batch':
        world.startInvocation(rng.chance(0.75) ? 'fast' : 'slow');
        break;
      case 'pending':
        world.firePending(rng.int(world.pending.length));
        break;
      case 'timer': {
        const timer = rng.pick(dueTimers);
        world.timers.splice(world.timers.indexOf(timer), 1);
        timer.fire();
        break;
      }
      case 'alarm':
        world.runAlarm(rng.pick(dueAlarms));
        break;
      case 'jump':
        world.now += rng.chance(0.1) ? 30_000 + rng.int(170_000) : 10 + rng.int(5_000);
        break;
      case 'restart':
        world.restart(rng.pick([...world.apps.values()]));
        break;
      case 'kill':
        rng.pick([...world.invocations.values()]).kill();
        break;
      case 'stream':
        world.streamStep();
        break;
    }
    await settle();
    stop();
    world.checkDirty();
    world.checkStreams();
    stop();
  }

  // Drain: no more faults or new work; everything in flight finishes, every lease and retry runs out.
  world.faults = false;
  for (let round = 0; round < 1_000_000; round++) {
    world.now += 1;
    const dueTimer = world.timers.find((t) => t.at <= world.now);
    const dueAlarm = [...world.apps.values()].find((a) => a.alarmAt !== null && a.alarmAt <= world.now && !a.alarmRunning);
    const readyPath = (['fast', 'slow'] as const).find((p) => world.queues[p].some((m) => m.availableAt <= world.now));
    if (world.pending.length > 0) world.firePending(0);
    else if (dueTimer) {
      world.timers.splice(world.timers.indexOf(dueTimer), 1);
      dueTimer.fire();
    } else if (readyPath) world.startInvocation(readyPath);
    else if (dueAlarm) world.runAlarm(dueAlarm);
    else {
      const outboxes = [...world.apps.values()].reduce(
        (n, a) => n + a.sql.exec<{ n: number }>('SELECT count(*) AS n FROM outbox').one().n,
        0,
      );
      const queued = world.queues.fast.length + world.queues.slow.length;
      if (outboxes === 0 && queued === 0 && world.timers.length === 0 && inFlight === 0 && world.invocations.size === 0) break;
      const next = Math.min(
        ...world.timers.map((t) => t.at),
        ...[...world.apps.values()].map((a) => a.alarmAt ?? Number.POSITIVE_INFINITY),
        ...[...world.queues.fast, ...world.queues.slow].map((m) => m.availableAt),
      );
      if (!Number.isFinite(next)) {
        await settle();
        if (world.pending.length === 0 && inFlight === 0 && world.invocations.size === 0) break;
        continue;
      }
      world.now = Math.max(world.now, next);
    }
    await settle();
    stop();
    world.checkDirty();
    stop();
  }
  for (const app of world.apps.values()) world.guard(() => checkQuiescent(app, world.d1));
  stop();
  return { seed: options.seed, stats: world.stats, ms: Date.now() - started };
}
