/**
 * Progress on stderr for long runs: silent while scanning has taken less than a second, then one
 * line per full scan.
 */
import type { ScanRecord } from './run.js';

export function progressReporter(write: (text: string) => void, quietMs = 1000): (scan: ScanRecord, run: { pages: number }) => void {
  return (scan, { pages }) => {
    if (scan.wallMs < quietMs) return;
    write(`ksm-wasm estimate: full scan ${scan.fullScans} of ${pages} pages: shared ${scan.pagesShared}, sharing ${scan.pagesSharing}, ` +
      `zero ${scan.ksmZeroPages} (${(scan.wallMs / 1000).toFixed(1)} s scanning)\n`);
  };
}

/** One line before reading large inputs (they take a while to load). */
export function announceRead(pages: number, write: (text: string) => void): void {
  if (pages * 4096 >= 256 * 2 ** 20) write(`ksm-wasm estimate: reading ${(pages * 4096 / 2 ** 20).toFixed(0)} MiB of pages\n`);
}
