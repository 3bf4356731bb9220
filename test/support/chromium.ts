/**
 * Debian's chromium for the browser tests (driven by playwright-core, never its own download):
 * where it is, whether it is there (the tests say loudly when they did not run), and how it starts.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.LOTL_CHROMIUM ?? '/usr/bin/chromium';
export const HAS_CHROMIUM = existsSync(CHROMIUM);

/** Says, once per test file, which browser tests did not run. */
export function sayIfNoChromium(what: string): void {
  if (!HAS_CHROMIUM)
    process.stderr.write(
      `\n*** ${CHROMIUM} not found (Debian's chromium; .ci/run installs it): ${what} DID NOT RUN. ***\n`,
    );
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // As root in CI; no background traffic to the (closed) network.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
