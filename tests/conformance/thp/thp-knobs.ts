/**
 * khugepaged, paused or running: khugepaged collapses ranges that ksmd has just split back into
 * huge pages (KSM pages included) whenever it wakes, so the experiments that establish what ksmd
 * alone does pause it (scan_sleep_millisecs one day) and put it back afterwards. A journal file
 * holds the saved value while a run is in progress, so a run killed with SIGKILL is undone by the
 * next one (or by hand: echo VALUE > /sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs).
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SLEEP = '/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs';
const JOURNAL = join(tmpdir(), 'ksm-wasm-thp.journal.json');
const PAUSED = 86_400_000;

export type Khugepaged = 'paused' | 'as configured';

export class KhugepagedControl {
  readonly saved: string;
  constructor() {
    if (existsSync(JOURNAL)) {
      const { pid, value } = JSON.parse(readFileSync(JOURNAL, 'utf8')) as { pid: number; value: string };
      if (pid !== process.pid && alive(pid)) throw new Error(`another THP run (pid ${pid}) holds khugepaged (${JOURNAL})`);
      writeFileSync(SLEEP, value); // a killed run: put its value back first
    }
    this.saved = readFileSync(SLEEP, 'utf8').trim();
    writeFileSync(JOURNAL, JSON.stringify({ pid: process.pid, value: this.saved }));
  }
  set(mode: Khugepaged): void {
    const want = mode === 'paused' ? String(PAUSED) : this.saved;
    if (readFileSync(SLEEP, 'utf8').trim() !== want) writeFileSync(SLEEP, want);
  }
  /** Puts the saved value back; the error message if it could not. */
  restore(): string | undefined {
    try {
      this.set('as configured');
      rmSync(JOURNAL, { force: true });
      return undefined;
    } catch (error) {
      return `khugepaged/scan_sleep_millisecs NOT restored to ${this.saved}: ${(error as Error).message}`;
    }
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}
