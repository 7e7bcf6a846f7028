import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-pool-workers';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

// Vite warned on every run that a dependency (standardwebhooks, the tests' signature verifier) ships a
// source map naming files it does not ship; it is loaded without that map, so the output stays quiet.
const withoutBrokenSourceMaps: Plugin = {
  name: 'without-broken-source-maps',
  enforce: 'pre',
  load(id) {
    if (!/\/node_modules\/standardwebhooks\/dist\/.*\.js$/.test(id)) return null;
    return readFileSync(id, 'utf8').replace(/^\/\/# sourceMappingURL=.*$/m, '');
  },
};

export default defineConfig(async () => {
  const migrations = await readD1Migrations(path.join(import.meta.dirname, 'migrations'));
  return {
    plugins: [
      withoutBrokenSourceMaps,
      cloudflareTest({
        wrangler: { configPath: './wrangler.toml' },
        miniflare: {
          bindings: {
            TEST_MIGRATIONS: migrations,
            PLATFORM_TOKEN: 'aae_pt_test-platform-token',
            ALLOW_INSECURE_WEBHOOKS: 'true',
            // The user pages: sessions are signed with this; the development login is on (tests also
            // call the app with it off, and on a non-loopback host, where it must not exist).
            SESSION_SECRET: 'test-session-secret-0123456789abcdefghijklmnop',
            DEV_LOGIN: 'true',
            // Retries are exercised with real waits in the pool, so the schedule (a setting) is short
            // here; the production schedule itself is unit-tested in test/domain/retry.test.ts.
            RETRY_SCHEDULE_SECONDS: '1,1,1',
            // The XAA subscription limit of the partner tier is tiny here, so a test can reach it.
            XAA_SUBSCRIPTIONS_PARTNER: '3',
            // Stream keep-alives every second and a small lag limit, so tests see both without waiting long.
            XAA_STREAM_KEEPALIVE_SECONDS: '1',
            XAA_STREAM_MAX_LAG_BYTES: '65536',
          },
        },
      }),
    ],
    test: {
      include: ['test/**/*.test.ts'],
      // test/e2e runs against wrangler dev (node --test); test/sim runs in Node (vitest.sim.config.ts).
      exclude: ['test/e2e/**', 'test/sim/**'],
      setupFiles: ['./test/apply-migrations.ts'],
      // Delivery tests wait for the local queue (1 s batches) and short retries.
      testTimeout: 30_000,
    },
  };
});
