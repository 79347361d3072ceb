/**
 * The real ksmd free-running: images in guest processes, the knobs set, run=1, and nothing else
 * touched until the wanted number of full scans is done. What is recorded is what an operator
 * sees: the wall clock from the write of run=1 to the end of each full scan, and ksmd's CPU time
 * (/proc/<ksmd>/stat utime+stime, in clock ticks, and /proc/<ksmd>/schedstat, in ns).
 *
 * The end of a full scan is found by polling full_scans about every millisecond; the time is
 * that of the poll that saw it move (so about a poll late at most). Safety as in the step harness
 * (tests/conformance/harness.ts): refuses unless KSM is idle, journals the knobs, and always puts
 * every knob back and leaves run=0 (run=2 first, which unmerges everything), on SIGINT, SIGTERM
 * and SIGHUP too.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildGuest, startGuest, stopGuest, verifyMapping, type Guest } from './guests.js';
import { findKsmd } from './ksmd.js';
import { restoreKnobs, staleJournal, writeJournal } from './restore.js';
import { busyReason, readCounters, readKnob, readKsm, saveKnobs, unavailableReason, writeKnob } from './sysfs.js';

/** Thrown when this machine cannot, or must not, run the kernel now; the message says why. */
export class KsmUnavailable extends Error {}

export interface FreeRunKnobs {
  pages_to_scan: number;
  sleep_millisecs: number;
  max_page_sharing?: number;
  use_zero_pages?: number;
  smart_scan?: number;
  stable_node_chains_prune_millisecs?: number;
}

export interface FreeRunScan {
  full_scans: number;
  /** Wall ms from the write of run=1 to the poll that saw this scan end. */
  ms: number;
  /** ksmd's CPU ms since run=1: /proc/<ksmd>/stat utime+stime (clock ticks × 1000 / CLK_TCK). */
  cpu_ms: number;
  /** The same from /proc/<ksmd>/schedstat (sum_exec_runtime), ms. */
  schedstat_cpu_ms: number;
  /**
   * ms ksmd spent runnable but waiting for a CPU since run=1 (schedstat run_delay): on a machine
   * shared with other work, how much of `ms` the others took (ksmd runs at nice 5).
   */
  run_delay_ms: number;
  pages_scanned: number;
  pages_shared: number;
  pages_sharing: number;
}

export interface FreeRun { scans: FreeRunScan[]; contentsOk: boolean }

/** USER_HZ: the unit of utime and stime in /proc/PID/stat (100 on every Linux architecture in use). */
const CLK_TCK = 100;
const POLL_MS = 1;

/** Why the kernel cannot be driven now (not root, no KSM, KSM busy, another run), or undefined. */
export function kernelBusyOrUnavailable(): string | undefined {
  const why = unavailableReason();
  if (why) return why;
  try {
    const stale = staleJournal(); // throws while another harness run is driving ksmd
    if (stale) restoreKnobs(stale);
  } catch (error) {
    return (error as Error).message;
  }
  return busyReason();
}

export async function runFree(images: string[], knobs: FreeRunKnobs, limits: { scans: number; timeoutMs: number }): Promise<FreeRun> {
  const why = kernelBusyOrUnavailable();
  if (why) throw new KsmUnavailable(why);
  const binary = buildGuest();
  const saved = saveKnobs();
  writeJournal(saved);
  const guests: Guest[] = [];
  const stop = { signal: '' };
  const onSignal = (signal: string) => { stop.signal = signal; };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const sig of signals) process.on(sig, onSignal);
  try {
    writeKnob('run', 2);
    if (readKnob('advisor_mode') !== 'none') writeKnob('advisor_mode', 'none');
    for (const [file, value] of Object.entries(knobs)) if (value !== undefined && readKnob(file) !== String(value)) writeKnob(file, value);
    writeKnob('run', 0);
    for (const image of images) guests.push(await startGuest(binary, image));
    guests.forEach(verifyMapping);
    const scans = await poll(limits, stop);
    writeKnob('run', 0);
    return { scans, contentsOk: true };
  } finally {
    try { writeKnob('run', 2); } catch { /* restoreKnobs retries */ }
    const codes = await Promise.all(guests.map(stopGuest));
    const left = restoreKnobs(saved);
    for (const sig of signals) process.off(sig, onSignal);
    if (left.length) throw new Error(`KSM knobs NOT restored: ${left.join('; ')} (run node --import tsx tests/conformance/restore.ts)`);
    if (!codes.every((c) => c === 0)) throw new Error(`a guest's memory no longer held its image (exit codes ${codes.join(', ')})`);
    if (stop.signal) { process.exitCode = 130; throw new Error(`interrupted by ${stop.signal} (KSM was restored)`); }
  }
}

/** run=1, then every full scan's end as it happens. */
async function poll(limits: { scans: number; timeoutMs: number }, stop: { signal: string }): Promise<FreeRunScan[]> {
  const ksmd = findKsmd();
  const base = readCounters();
  const cpu0 = ksmdCpu(ksmd);
  const scans: FreeRunScan[] = [];
  let fs = base.full_scans;
  const t0 = performance.now();
  writeKnob('run', 1);
  while (scans.length < limits.scans) {
    await sleep(POLL_MS);
    if (stop.signal) throw new Error(`interrupted by ${stop.signal}`);
    const now = Number(readKsm('full_scans'));
    const t = performance.now();
    if (now !== fs) {
      const cpu = ksmdCpu(ksmd);
      const c = readCounters();
      for (let n = fs + 1; n <= now; n++) {
        scans.push({
          full_scans: n - base.full_scans, ms: t - t0, cpu_ms: cpu.ticks - cpu0.ticks, schedstat_cpu_ms: (cpu.ns - cpu0.ns) / 1e6, run_delay_ms: (cpu.delayNs - cpu0.delayNs) / 1e6,
          pages_scanned: c.pages_scanned - base.pages_scanned, pages_shared: c.pages_shared, pages_sharing: c.pages_sharing,
        });
      }
      fs = now;
    }
    if (t - t0 > limits.timeoutMs) throw new Error(`ksmd did not finish ${limits.scans} full scans within ${limits.timeoutMs} ms (${scans.length} done)`);
  }
  return scans.slice(0, limits.scans);
}

/** ksmd's CPU so far: utime+stime in ms (tick resolution), schedstat's ns on a CPU and waiting for one. */
function ksmdCpu(pid: number): { ticks: number; ns: number; delayNs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15 of stat(5)
  const [ns, delayNs] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(/\s+/).map(Number);
  return { ticks: (ticks * 1000) / CLK_TCK, ns, delayNs };
}
