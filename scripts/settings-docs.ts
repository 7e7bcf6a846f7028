import { type SettingEntry, settingsCatalog } from '../src/config';

/**
 * Renders the settings schema of src/config.ts as the files that document it: docs/settings.md and
 * the settings block of wrangler.toml. `npm run settings:sync` writes them (scripts/settings-sync.mjs);
 * test/settings-docs.test.ts fails when they drift.
 */

export const SETTINGS_DOC = 'docs/settings.md';
export const WRANGLER_TOML = 'wrangler.toml';

const GENERATED = 'Generated from the schema in src/config.ts by `npm run settings:sync`: edit the schema, not this';
const VARS_BEGIN = `# BEGIN settings. ${GENERATED} block.`;
const VARS_END = '# END settings';

const cell = (text: string) => text.replaceAll('|', '\\|');
const code = (text: string) => (text === '' ? '(empty)' : `\`${text}\``);

/** A Markdown table with padded columns, as the formatter (Biome) lays it out. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, 3, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function renderSettingsDoc(catalog: SettingEntry[] = settingsCatalog()): string {
  const rows = catalog.map((s) => [`\`${s.name}\``, cell(s.type), cell(code(s.default)), cell(s.description)]);
  return [
    '# Settings',
    '',
    `<!-- ${GENERATED} file. -->`,
    '',
    'Every setting is a Worker var: `[vars]` in `wrangler.toml`, or `.dev.vars` for `npm run dev`. All are optional; a',
    'missing or malformed value falls back to its default.',
    '',
    ...table(['Name', 'Type', 'Default', 'Description'], rows),
    '',
    'The platform token is a secret, not a setting: `wrangler secret put PLATFORM_TOKEN` (locally it is in `.dev.vars`,',
    'which `npm run dev` creates).',
    '',
  ].join('\n');
}

function renderVarsBlock(catalog: SettingEntry[] = settingsCatalog()): string {
  return [
    VARS_BEGIN,
    '# All optional; docs/settings.md explains each. The platform token is a secret: `wrangler secret put PLATFORM_TOKEN`.',
    '[vars]',
    ...catalog.flatMap((s) => [`# ${s.description}`, `${s.name} = ${JSON.stringify(s.default)}`]),
    VARS_END,
  ].join('\n');
}

/** wrangler.toml with its settings block rendered afresh; everything outside the markers is kept. */
export function withVarsBlock(toml: string, catalog: SettingEntry[] = settingsCatalog()): string {
  const begin = toml.indexOf(VARS_BEGIN);
  const end = toml.indexOf(VARS_END, begin);
  if (begin < 0 || end < 0) {
    throw new Error(`${WRANGLER_TOML} needs the lines "${VARS_BEGIN}" and "${VARS_END}" around its [vars] table`);
  }
  return toml.slice(0, begin) + renderVarsBlock(catalog) + toml.slice(end + VARS_END.length);
}
