#!/usr/bin/env node
// `npm run settings:sync`: writes docs/settings.md and the settings block of wrangler.toml from the zod
// schema in src/config.ts (test/settings-docs.test.ts fails when they drift). `--check` writes nothing
// and exits 1 if either file is out of date.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runnerImport } from 'vite';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');
// Vite loads the TypeScript renderer (and the schema it imports) without a build step.
const { module: docs } = await runnerImport(join(root, 'scripts/settings-docs.ts'), { root, configFile: false, logLevel: 'silent' });

const targets = [
  [docs.SETTINGS_DOC, () => docs.renderSettingsDoc()],
  [docs.WRANGLER_TOML, (current) => docs.withVarsBlock(current)],
];
let stale = 0;
for (const [file, render] of targets) {
  const path = join(root, file);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const next = render(current);
  if (next === current) {
    console.log(`${file}: up to date`);
    continue;
  }
  stale++;
  if (check) {
    console.log(`${file}: out of date with src/config.ts`);
  } else {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, next);
    console.log(`${file}: written`);
  }
}
if (check && stale > 0) {
  console.log('Run npm run settings:sync.');
  process.exit(1);
}
