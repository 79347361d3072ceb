/**
 * Letting the real ksmd settle on stopped QEMU guests, with the conformance harness's step mode
 * (one batch per poke, everything read after each full scan), then reading what it freed.
 *
 * Refuses unless KSM is idle but for the guests themselves. Saves every KSM knob (journal:
 * tests/conformance/restore.ts undoes a killed run), run=2, the knobs asked for, step mode;
 * khugepaged paused unless asked (it collapses split ranges back at its own pace, which no model
 * of ksmd can follow). Stops when the merge state has not changed for `stable` full scans. Always:
 * run=2, knobs and khugepaged put back, run=0.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { hasConverged, settledAt, type MergeCounters } from '../../src/estimate/convergence.js';
import { restoreKnobs, staleJournal, writeJournal } from '../../tests/conformance/restore.js';
import { busyReason, readCounters, readKnob, readKsmStat, saveKnobs, unavailableReason, writeKnob } from '../../tests/conformance/sysfs.js';
import { mergeCounters } from '../../tests/conformance/harness.js';
import { Stepper, STEP_SLEEP } from '../../tests/conformance/thp/stepper.js';
import { KhugepagedControl } from '../../tests/conformance/thp/thp-knobs.js';
import { freed, readSpace, summarize, type SpacePages } from './pages.js';

export interface SettleOptions {
  pids: number[];
  pagesToScan: number;
  smartScan: number;
  useZeroPages: number;
  maxScans: number;
  stable: number;
  khugepaged: 'paused' | 'as configured';
  /** ksmd at its own pace (sleep_millisecs as given) instead of step mode: what a host sees. */
  realtimeSleepMs?: number;
}

const COLLAPSED = '/sys/kernel/mm/transparent_hugepage/khugepaged/pages_collapsed';

export async function settle(o: SettleOptions, log: (line: string) => void, stop: { signal: string }) {
  const why = unavailableReason();
  if (why) throw new Error(`cannot drive ksmd here: ${why}`);
  const stale = staleJournal();
  if (stale) restoreKnobs(stale);
  const busy = busyReason(o.pids);
  if (busy) throw new Error(busy);
  const khugepaged = new KhugepagedControl();
  const saved = saveKnobs();
  writeJournal(saved);
  try {
    khugepaged.set(o.khugepaged);
    const before = o.pids.map(readSpace);
    log(`before: ${before.map((s) => `${s.pid}: ${s.classes.thp + s.classes.anon} anon pages (${s.pmdMapped} PMD-mapped), ${s.classes.zero} zero`).join('; ')}`);
    prepare(o);
    const collapsed0 = Number(readFileSync(COLLAPSED, 'utf8'));
    const t0 = performance.now();
    const run = await stepUntilSettled(o, log, stop);
    const seconds = (performance.now() - t0) / 1000;
    writeKnob('run', 0);
    const after = o.pids.map(readSpace);
    return {
      knobs: { pages_to_scan: o.pagesToScan, smart_scan: o.smartScan, use_zero_pages: o.useZeroPages, khugepaged: o.khugepaged, mode: o.realtimeSleepMs === undefined ? 'step' : `real time, sleep_millisecs ${o.realtimeSleepMs}` },
      ...run,
      settleSeconds: Math.round(seconds * 10) / 10,
      khugepagedPagesCollapsed: Number(readFileSync(COLLAPSED, 'utf8')) - collapsed0,
      before: before.map(summarize),
      after: after.map(summarize),
      freed: freed(before, after),
    };
  } finally {
    const left = restoreKnobs(saved);
    const thpLeft = khugepaged.restore();
    if (left.length || thpLeft) throw new Error(`NOT restored: ${[...left, thpLeft].filter(Boolean).join('; ')} (node --import tsx tests/conformance/restore.ts)`);
  }
}

function prepare(o: SettleOptions): void {
  writeKnob('run', 2);
  if (readKnob('advisor_mode') !== 'none') writeKnob('advisor_mode', 'none');
  const knobs = { pages_to_scan: o.pagesToScan, smart_scan: o.smartScan, use_zero_pages: o.useZeroPages };
  for (const [k, v] of Object.entries(knobs)) if (readKnob(k) !== String(v)) writeKnob(k, v);
  writeKnob('sleep_millisecs', o.realtimeSleepMs ?? STEP_SLEEP[0]);
  writeKnob('run', 0);
}

/** Real time: run=1 and a look at the counters every 100 ms; a snapshot when full_scans moves. */
async function* realtimeScans(stop: { signal: string }): AsyncGenerator<void> {
  writeKnob('run', 1);
  let fs = readCounters().full_scans;
  while (true) {
    if (stop.signal) throw new Error(`interrupted by ${stop.signal}`);
    await sleep(100);
    const c = readCounters();
    if (c.full_scans !== fs) { fs = c.full_scans; yield; }
  }
}

async function stepUntilSettled(o: SettleOptions, log: (line: string) => void, stop: { signal: string }) {
  const stepper = new Stepper();
  const base = readCounters();
  const scans: Array<{ counters: Record<string, number>; spaces: Array<Record<string, number>>; ksmdCpuMs: number; seconds: number; khugepagedCollapsed: number }> = [];
  const t0 = performance.now();
  const merge: MergeCounters[] = [];
  let fs = base.full_scans;
  const disturbedBy = new Set<number>();
  const realtime = o.realtimeSleepMs === undefined ? undefined : realtimeScans(stop);
  while (scans.length < o.maxScans && !hasConverged(merge, o.stable)) {
    if (stop.signal) throw new Error(`interrupted by ${stop.signal}`);
    if (realtime) await realtime.next();
    else await stepper.batch(120_000);
    const c = readCounters();
    if (c.full_scans === fs) continue;
    fs = c.full_scans;
    c.pages_scanned -= base.pages_scanned;
    c.pages_skipped -= base.pages_skipped;
    const spaces = o.pids.map((pid) => pick(readKsmStat(pid), ['ksm_rmap_items', 'ksm_merging_pages', 'ksm_zero_pages', 'ksm_process_profit']));
    const collapsed = Number(readFileSync(COLLAPSED, 'utf8'));
    scans.push({ counters: c, spaces, ksmdCpuMs: Math.round(stepper.cpuNs() / 1e6), seconds: Math.round((performance.now() - t0) / 100) / 10, khugepagedCollapsed: collapsed });
    merge.push(mergeCounters(c));
    for (const pid of foreignMergeable(o.pids)) disturbedBy.add(pid);
    log(`full scan ${c.full_scans}: shared ${c.pages_shared} sharing ${c.pages_sharing} unshared ${c.pages_unshared} volatile ${c.pages_volatile} rmap ${spaces.map((s) => s.ksm_rmap_items).join('/')} (${scans[scans.length - 1].seconds} s, khugepaged pages_collapsed ${collapsed})`);
  }
  if (realtime) writeKnob('run', 0);
  if (disturbedBy.size) log(`WARNING: other processes with mergeable memory appeared while ksmd ran (${[...disturbedBy].join(', ')}): the figures include them`);
  return { disturbedBy: [...disturbedBy], converged: hasConverged(merge, o.stable), settledAt: settledAt(merge), fullScans: scans.length, batches: stepper.batches, ksmdCpuMs: Math.round(stepper.cpuNs() / 1e6), scans };
}

/** Processes other than ours that ksmd would scan (they would change the figures). */
function foreignMergeable(ours: number[]): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || ours.includes(Number(d))) continue;
    try {
      if (/ksm_mergeable: yes|ksm_merge_any: yes/.test(readFileSync(`/proc/${d}/ksm_stat`, 'utf8'))) out.push(Number(d));
    } catch { /* gone, or a kernel thread */ }
  }
  return out;
}

function pick(o: Record<string, number>, keys: string[]): Record<string, number> {
  return Object.fromEntries(keys.map((k) => [k, o[k]]));
}

export type SettleResult = Awaited<ReturnType<typeof settle>>;
export type { SpacePages };
