// The real browser for the page tests: Debian's chromium driven by playwright-core. Nothing is
// downloaded from browser vendors; if the package is missing the tests fail and say how to install it.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ROOT } from '../../scripts/lib/service.mjs';

export const CHROMIUM = process.env.AAE_CHROMIUM ?? '/usr/bin/chromium';
export const INSTALL_CHROMIUM = 'apt-get update && apt-get install -y chromium';
export const SCREENSHOTS = join(ROOT, '.test-results', 'screenshots');

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** A fresh browser profile (its own user-data-dir, so no cookie survives from another test). */
export async function launchChromium() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}. Install Debian's package with: ${INSTALL_CHROMIUM}`);
  }
  const userDataDir = mkdtempSync(join(tmpdir(), 'aae-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Saves a full-page screenshot as a test artifact (.test-results/screenshots/<name>.png), on a
 * desktop viewport and, with `phone`, also on a phone-sized one (<name>-phone.png).
 * @param {import('playwright-core').Page} page @param {string} name @param {{ phone?: boolean }} [options]
 */
export async function screenshot(page, name, { phone = false } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  if (phone) {
    const size = page.viewportSize();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-phone.png`), fullPage: true });
    if (size) await page.setViewportSize(size);
  }
}
