import { describe, expect, it } from 'vitest';
import { simulate } from './simulate';

/**
 * The delivery protocol under a deterministic simulator (docs/testing.md, "Simulator"). `npm test`
 * runs at least 100,000 steps over several seeds; `npm run sim -- --steps N --seed S` runs one seed
 * as long as you like and replays a failure exactly.
 */
/** Node's, for the simulator only (the project's types are the Workers runtime's). */
declare const process: { env: Record<string, string | undefined> };

const SEEDS: number[] = (process.env.SIM_SEEDS ?? '1,2,3,4').split(',').map(Number);
const STEPS = Number(process.env.SIM_STEPS ?? 25_000);
/** How often a step is a control-plane change (ingest weighs 8); `npm run sim -- --change-weight W` sets it. */
const CHANGE_WEIGHT = process.env.SIM_CHANGE_WEIGHT ? Number(process.env.SIM_CHANGE_WEIGHT) : undefined;

describe('the delivery protocol under the simulator', () => {
  let testPosts = 0;
  it.each(SEEDS)('seed %i: every invariant holds after every step, and the drain loses nothing', async (seed) => {
    const result = await simulate({ seed, steps: STEPS, changeWeight: CHANGE_WEIGHT, trace: process.env.SIM_TRACE === '1' });
    console.log(
      `sim seed ${seed}: ${result.stats.steps} steps in ${result.ms} ms (${Math.round((result.stats.steps * 1000) / result.ms)} steps/s), ` +
        `${result.stats.postsStarted} POSTs (${result.stats.testPosts} test events), ${result.stats.withdrawals} withdrawals (${result.stats.fencedWithdrawals} fenced), ${result.stats.restarts} restarts, ` +
        `${result.stats.consumerDeaths} consumer deaths, ${result.stats.lostMessages} lost and ${result.stats.duplicatedMessages} duplicated queue messages, ` +
        `${result.stats.streamLines} stream lines read`,
    );
    // Not a vacuous run: deliveries were checked, webhook POSTs and stream lines alike (a seed whose
    // apps spend long stretches suspended POSTs little, but its streams still carry lines).
    expect(result.stats.postsStarted + result.stats.streamLines).toBeGreaterThan(STEPS / 100);
    expect(result.stats.postsStarted).toBeGreaterThan(0);
    expect(result.stats.withdrawals).toBeGreaterThan(0);
    expect(result.stats.streamLines).toBeGreaterThan(0);
    testPosts += result.stats.testPosts;
  });

  // Test events are rare (a few in a seed, none in some): the seeds together must have POSTed some.
  it.runIf(SEEDS.length > 1)("the seeds together POSTed developers' test events", () => {
    expect(testPosts).toBeGreaterThan(0);
  });
});

describe.runIf(process.env.SIM_MUTATION)('one seed, mutated (npm run sim -- --mutation …)', () => {
  it('is caught', async () => {
    const mutation = process.env.SIM_MUTATION as 'no-fence' | 'no-start-deadline' | 'no-write-ahead';
    await expect(
      simulate({ seed: SEEDS[0], steps: STEPS, mutation, changeWeight: CHANGE_WEIGHT, trace: process.env.SIM_TRACE === '1' }),
    ).rejects.toThrow();
  });
});

describe.skipIf(process.env.SIM_MUTATION)('the simulator bites', () => {
  it('without the withdrawal fence, a POST starts after its withdrawal returned (invariant "fence")', async () => {
    await expect(firstViolation('no-fence')).resolves.toMatch(/^fence:/);
  });

  // A hand-out that outlived its lease starts late: after the withdrawal that ended it returned, or
  // after the re-released copy and the lane's later events already went. Either breaks a promise.
  it('without the hand-out start deadline, a stale hand-out starts late (invariant "fence" or "fifo")', async () => {
    await expect(firstViolation('no-start-deadline')).resolves.toMatch(/^(fence|fifo):/);
  });

  it('without the write-ahead ledger row, a POST starts that is not on the record (invariant "write-ahead")', async () => {
    await expect(firstViolation('no-write-ahead')).resolves.toMatch(/^write-ahead:/);
  });
});

/**
 * Withdrawals weigh more in mutant runs: a fence bug shows only when a withdrawal meets a hand-out
 * still able to start, so more withdrawals find it in fewer steps.
 */
const MUTANT_CHANGE_WEIGHT = Number(process.env.SIM_CHANGE_WEIGHT ?? 6);

/** Runs seeds until the mutant is caught; a mutant that survives 20 seeds fails the test. */
async function firstViolation(mutation: 'no-fence' | 'no-start-deadline' | 'no-write-ahead'): Promise<string> {
  for (let seed = 1; seed <= 20; seed++) {
    try {
      await simulate({ seed, steps: 20_000, mutation, changeWeight: MUTANT_CHANGE_WEIGHT });
    } catch (err) {
      console.log(`mutant ${mutation} caught by seed ${seed}`);
      return (err as Error).message;
    }
  }
  return 'survived';
}
