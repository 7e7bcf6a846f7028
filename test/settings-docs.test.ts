import { describe, expect, it } from 'vitest';
import doc from '../docs/settings.md?raw';
import { renderSettingsDoc, SETTINGS_DOC, WRANGLER_TOML, withVarsBlock } from '../scripts/settings-docs';
import { settings, settingsCatalog } from '../src/config';
import toml from '../wrangler.toml?raw';

const FIX = 'Run `npm run settings:sync` (it rewrites the file from src/config.ts), or paste the expected text below.';

describe('settings have one source: the schema in src/config.ts', () => {
  it('every setting has a type, a default and a description, and the documented default is the real one', () => {
    const catalog = settingsCatalog();
    expect(catalog.length).toBeGreaterThan(10);
    for (const entry of catalog) {
      expect(entry.description.length, entry.name).toBeGreaterThan(10);
      expect(entry.description, `${entry.name}: one line`).not.toContain('\n');
      expect(settings({ [entry.name]: entry.default }), `${entry.name} = ${JSON.stringify(entry.default)}`).toEqual(settings({}));
    }
  });

  it(`${SETTINGS_DOC} is generated from it`, () => {
    const expected = renderSettingsDoc();
    expect(doc, `${SETTINGS_DOC} is out of date. ${FIX}\n\n${expected}`).toBe(expected);
  });

  it(`the [vars] of ${WRANGLER_TOML} are generated from it`, () => {
    const expected = withVarsBlock(toml);
    expect(toml, `${WRANGLER_TOML} is out of date. ${FIX}\n\n${expected}`).toBe(expected);
  });
});

describe('settings whose documented range is narrower than the type', () => {
  it('FAN_OUT_INDEX_SHARDS above 64 is capped at 64, as docs/settings.md says; 1 to 64 are taken as given', () => {
    expect(settings({ FAN_OUT_INDEX_SHARDS: '100' }).fanOutIndex.shards).toBe(64);
    expect(settings({ FAN_OUT_INDEX_SHARDS: '64' }).fanOutIndex.shards).toBe(64);
    expect(settings({ FAN_OUT_INDEX_SHARDS: '3' }).fanOutIndex.shards).toBe(3);
    // Below its minimum it is malformed, and a malformed value falls back to the default (8).
    expect(settings({ FAN_OUT_INDEX_SHARDS: '0' }).fanOutIndex.shards).toBe(8);
  });
});
