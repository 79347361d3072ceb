/**
 * The kernel side of the conformance test: runs images through the real ksmd of this machine, one
 * batch at a time, and records every counter and every guest's ksm_stat after each full scan.
 *
 *  1. Refuses unless KSM is idle (run=0, no KSM page, no other process with mergeable memory).
 *  2. Saves every writable knob (and journals them), writes run=2 (empty trees, full_scans=0),
 *     sets the knobs, run=0.
 *  3. Starts one guest process per image, in order, and checks each mapping (smaps).
 *  4. Step mode: sleep_millisecs is 600000, so ksmd sleeps after every batch until the value is
 *     rewritten (600000 <-> 600001), which wakes it for exactly one batch. After each batch the
 *     harness waits until ksmd is asleep again in its loop (state S, wchan ksm_scan_thread, its run
 *     count moved, full_scans or pages_scanned moved) and, when full_scans moved, reads everything.
 *  5. Always (finally, and on SIGINT/SIGTERM/SIGHUP): run=2, guests stopped (each checks its memory
 *     still holds its image), every knob restored, run back to 0.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { hasConverged, settledAt, type MergeCounters } from '../../src/estimate/convergence.js';
import { buildGuest, startGuest, stopGuest, verifyMapping, type Guest } from './guests.js';
import { findKsmd, ksmdState } from './ksmd.js';
import { restoreKnobs, staleJournal, writeJournal } from './restore.js';
import { busyReason, readCounters, readKnob, readKsmStat, saveKnobs, unavailableReason, writeKnob } from './sysfs.js';

const STEP_SLEEP = [600000, 600001];

/** Knobs by sysfs name; sleep_millisecs is the harness's (step mode). */
export type KernelKnobs = Partial<Record<'pages_to_scan' | 'max_page_sharing' | 'use_zero_pages' | 'smart_scan'
  | 'stable_node_chains_prune_millisecs' | 'merge_across_nodes', number>>;

export interface KernelScan {
  /** The sysfs counters; pages_scanned and pages_skipped counted from the start of the run. */
  counters: Record<string, number>;
  /** Batches ksmd has run since run=1, this scan's included. */
  batches: number;
  /** ksmd's CPU time since run=1 (schedstat), ns. */
  cpuNs: number;
  /** /proc/PID/ksm_stat of each guest, in image order. */
  spaces: Array<Record<string, number>>;
}

export interface KernelRun {
  scans: KernelScan[];
  converged: boolean;
  settledAt: number;
  /** Pokes repeated because ksmd did not move within a second (normally 0). */
  repokes: number;
  /** Every guest's memory still held its image at the end. */
  contentsOk: boolean;
}

export interface RunLimits { maxScans: number; stableScans: number; timeoutMs?: number }

/**
 * A guard against a hung ksmd, not a measure of speed: one page per batch over a few thousand
 * batches takes minutes on a loaded 2-core machine (every batch is a sysfs poke and a wait).
 */
const DEFAULT_TIMEOUT_MS = 300_000;

/** Thrown when this machine cannot, or must not, run the kernel side; the message says why. */
export class KernelUnavailable extends Error {}

export async function runKernel(images: string[], knobs: KernelKnobs, limits: RunLimits): Promise<KernelRun> {
  const why = unavailableReason();
  if (why) throw new KernelUnavailable(why);
  const stale = staleJournal();
  if (stale) restoreKnobs(stale); // a run that was killed: put its knobs back first
  const busy = busyReason();
  if (busy) throw new KernelUnavailable(busy);
  const binary = buildGuest();
  const saved = saveKnobs();
  writeJournal(saved);
  const guests: Guest[] = [];
  const stop = { signal: '' };
  const onSignal = (signal: string) => { stop.signal = signal; };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of signals) process.on(s, onSignal);
  let contentsOk = false;
  try {
    prepareKnobs(knobs);
    for (const image of images) {
      checkStop(stop);
      guests.push(await startGuest(binary, image));
    }
    guests.forEach(verifyMapping);
    const run = await step(guests, limits, stop);
    writeKnob('run', 0);
    return { ...run, contentsOk: true };
  } finally {
    try { writeKnob('run', 2); } catch { /* restoreKnobs retries */ }
    const codes = await Promise.all(guests.map(stopGuest));
    contentsOk = codes.every((c) => c === 0);
    const left = restoreKnobs(saved);
    for (const s of signals) process.off(s, onSignal);
    if (left.length) throw new Error(`KSM knobs NOT restored: ${left.join('; ')} (run node --import tsx tests/conformance/restore.ts)`);
    if (!contentsOk) throw new Error(`a guest's memory no longer held its image (exit codes ${codes.join(', ')})`);
    if (stop.signal) { process.exitCode = 130; throw new Error(`interrupted by ${stop.signal} (KSM was restored)`); }
  }
}

function checkStop(stop: { signal: string }): void {
  if (stop.signal) throw new Error(`interrupted by ${stop.signal}`);
}

/** run=2 (clean slate), the knobs (EBUSY ones while nothing is merged), step-mode sleep, run=0. */
export function prepareKnobs(knobs: KernelKnobs): void {
  writeKnob('run', 2);
  if (readKnob('advisor_mode') !== 'none') writeKnob('advisor_mode', 'none');
  for (const [file, value] of Object.entries(knobs)) if (readKnob(file) !== String(value)) writeKnob(file, value);
  writeKnob('sleep_millisecs', STEP_SLEEP[0]);
  writeKnob('run', 0);
}

export async function step(guests: Array<Pick<Guest, 'pid'>>, limits: RunLimits, stop: { signal: string }): Promise<Omit<KernelRun, 'contentsOk'>> {
  const ksmd = findKsmd();
  const base = readCounters();
  const deadline = performance.now() + (limits.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  const scans: KernelScan[] = [];
  const merge: MergeCounters[] = [];
  let before = ksmdState(ksmd);
  const cpu0 = before.cpuNs;
  let [fs, ps] = [base.full_scans, base.pages_scanned];
  let batches = 0;
  let repokes = 0;
  let pokes = 0;
  writeKnob('run', 1); // a stopped ksmd starts one batch at once
  let pokedAt = performance.now();
  while (true) {
    checkStop(stop);
    const now = ksmdState(ksmd);
    const c = readCounters();
    const moved = c.full_scans !== fs || c.pages_scanned !== ps;
    if (moved && now.asleep && now.runs !== before.runs) {
      batches++;
      if (c.full_scans !== fs) {
        const scan = snapshot(guests, base, batches, now.cpuNs - cpu0);
        scans.push(scan);
        merge.push(mergeCounters(scan.counters));
        if (scans.length >= limits.maxScans || hasConverged(merge, limits.stableScans)) break;
      }
      [fs, ps] = [c.full_scans, c.pages_scanned];
      before = ksmdState(ksmd);
      writeKnob('sleep_millisecs', STEP_SLEEP[++pokes % 2]);
      pokedAt = performance.now();
      continue;
    }
    const t = performance.now();
    if (t > deadline) throw new Error(`ksmd did not finish within ${limits.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms (${scans.length} full scans)`);
    if (!moved && t - pokedAt > 1000) {
      repokes++;
      before = ksmdState(ksmd);
      writeKnob('sleep_millisecs', STEP_SLEEP[++pokes % 2]);
      pokedAt = t;
    }
    await yieldLoop();
  }
  return { scans, converged: hasConverged(merge, limits.stableScans), settledAt: settledAt(merge), repokes };
}

function snapshot(guests: Array<Pick<Guest, 'pid'>>, base: Record<string, number>, batches: number, cpuNs: number): KernelScan {
  const counters = readCounters();
  counters.pages_scanned -= base.pages_scanned;
  counters.pages_skipped -= base.pages_skipped;
  return { counters, batches, cpuNs, spaces: guests.map((g) => readKsmStat(g.pid)) };
}

export function mergeCounters(c: Record<string, number>): MergeCounters {
  return {
    pagesShared: c.pages_shared, pagesSharing: c.pages_sharing, pagesUnshared: c.pages_unshared, pagesVolatile: c.pages_volatile,
    ksmZeroPages: c.ksm_zero_pages, stableNodeChains: c.stable_node_chains, stableNodeDups: c.stable_node_dups,
  };
}
