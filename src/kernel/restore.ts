/**
 * Putting KSM back as it was: run=2 (unmerge everything), every knob to its saved value in an
 * order the kernel accepts, run back to its saved value (0). A journal of the saved values lives
 * in a file while a run is in progress, so a harness killed with SIGKILL can be undone:
 *   node --import tsx tests/conformance/restore.ts
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ownTempDir } from './own-dir.js';
import { readKnob, writeKnob, type KnobValues } from './sysfs.js';

export const JOURNAL = join(ownTempDir('ksm-wasm-conformance'), 'journal.json');

/** advisor_mode none first (pages_to_scan is refused under scan-time); the EBUSY knobs after run=2. */
const ORDER = [
  'advisor_mode', 'pages_to_scan', 'sleep_millisecs', 'use_zero_pages', 'smart_scan', 'stable_node_chains_prune_millisecs',
  'advisor_max_cpu', 'advisor_min_pages_to_scan', 'advisor_max_pages_to_scan', 'advisor_target_scan_time',
  'max_page_sharing', 'merge_across_nodes',
];

export function writeJournal(saved: KnobValues): void {
  writeFileSync(JOURNAL, JSON.stringify({ pid: process.pid, saved }));
}

/** The journal of a run whose process is gone, if any; throws if that process still lives. */
export function staleJournal(): KnobValues | undefined {
  if (!existsSync(JOURNAL)) return undefined;
  const { pid, saved } = JSON.parse(readFileSync(JOURNAL, 'utf8')) as { pid: number; saved: KnobValues };
  if (pid !== process.pid && alive(pid)) throw new Error(`another conformance run (pid ${pid}) is driving ksmd (${JOURNAL})`);
  return saved;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Restores every saved knob; returns the knobs that could not be put back (empty on success). */
export function restoreKnobs(saved: KnobValues): string[] {
  const errors: string[] = [];
  const attempt = (file: string, value: string) => {
    try { if (readKnob(file) !== value) writeKnob(file, value); } catch (error) { errors.push(`${file}=${value}: ${(error as Error).message}`); }
  };
  attempt('run', '2');
  if (saved.advisor_mode && saved.advisor_mode !== 'none') attempt('advisor_mode', 'none');
  for (const file of ORDER) if (file in saved && file !== 'advisor_mode') attempt(file, saved[file]);
  for (const file of Object.keys(saved)) if (!ORDER.includes(file) && file !== 'run') attempt(file, saved[file]);
  if (saved.advisor_mode) attempt('advisor_mode', saved.advisor_mode);
  attempt('run', saved.run ?? '0');
  const left = Object.entries(saved).filter(([file, value]) => readKnob(file) !== value).map(([file, value]) => `${file} is ${readKnob(file)}, was ${value}`);
  if (left.length === 0 && errors.length === 0) rmSync(JOURNAL, { force: true });
  return [...errors, ...left];
}
