/**
 * Debian's Chromium for the browser tests (never a downloaded build): where it is, why it cannot
 * run here, and one way to start it, headless.
 */
import { chromium, type Browser } from 'playwright-core';
import { cannotRun } from './can-run.js';

export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here (with the fix), or undefined. */
export function noChromium(): string | undefined {
  const why = cannotRun({ files: [CHROMIUM] });
  return why && `${why}: install Debian's chromium package (apt-get install -y chromium; .ci/run does)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 30_000,
  });
}
