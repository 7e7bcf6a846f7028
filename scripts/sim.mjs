#!/usr/bin/env node
// `npm run sim -- --steps N --seed S [--change-weight W] [--mutation no-fence|no-start-deadline|no-write-ahead] [--trace]`
// Runs the delivery-protocol simulator (test/sim) for one seed as long as you like. A failure prints
// the invariant, the seed and the step; the same seed and steps replay it exactly, and --trace
// prints what happened before it.
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '200000' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
    'change-weight': { type: 'string' },
    mutation: { type: 'string' },
    trace: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log('npm run sim -- --steps N --seed S [--change-weight W] [--mutation no-fence|no-start-deadline|no-write-ahead] [--trace]');
  process.exit(0);
}
for (const name of ['steps', 'seed', 'change-weight']) {
  if (values[name] !== undefined && !/^\d+$/.test(values[name])) {
    console.error(`--${name} must be a whole number, got ${JSON.stringify(values[name])}`);
    process.exit(2);
  }
}
console.log(`simulating seed ${values.seed} for ${values.steps} steps${values.mutation ? ` with mutation ${values.mutation}` : ''}`);
const result = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    '--config',
    'vitest.sim.config.ts',
    'test/sim/simulator.test.ts',
    '-t',
    values.mutation ? 'one seed, mutated' : 'every invariant',
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      SIM_SEEDS: values.seed,
      SIM_STEPS: values.steps,
      SIM_TRACE: values.trace ? '1' : '',
      SIM_MUTATION: values.mutation ?? '',
      ...(values['change-weight'] !== undefined ? { SIM_CHANGE_WEIGHT: values['change-weight'] } : {}),
    },
  },
);
process.exit(result.status ?? 1);
