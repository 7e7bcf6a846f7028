import { defineConfig } from 'vitest/config';

/** The protocol simulator runs in Node (sql.js under the object's real storage code), not in workerd. */
export default defineConfig({
  test: {
    include: ['test/sim/**/*.test.ts'],
    environment: 'node',
    testTimeout: 600_000,
  },
});
