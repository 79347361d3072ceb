/**
 * Running a workload through an engine, pass by pass: load the guests, then full scans with one
 * batch per pass (pages_to_scan above the page count, as the kernel comparison does), each timed
 * on both clocks, with the kernel's counters after it.
 */
import { Ksm, type KsmStats, type LiveFigures } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { SCRATCH_LOCATION, SCRATCH_SIZE } from '../src/generated/core-abi.js';
import { engineFits, engineMemoryFor } from '../src/cli/memory.js';
import { settledAt } from '../src/estimate/convergence.js';
import { floorFor, readAll } from './floor.js';
import { sumTimings, time, type Timing } from './lib.js';
import { loadWorkload, totalPages, type Workload } from './workloads.js';

export type Engine = 'wasm' | 'reference';

export interface Pass extends Timing {
  /** Pages processed in this pass (pages_scanned moved by this much). */
  scanned: number;
  stats: KsmStats;
}

export interface WorkloadRun {
  engine: Engine;
  workload: string;
  pages: number;
  load: Timing;
  passes: Pass[];
  /** The first pass after which the merge state never changed (estimate's definition). */
  settledAt: number;
  /** Time of passes 1..settledAt. */
  settle: Timing;
  /** Reading every guest page once, in the engine's memory, before any scan (wasm only). */
  floor?: Timing;
  liveAfterLoad: LiveFigures;
  live: LiveFigures;
  /** rmap items (tracked pages) after the last pass. */
  rmapItems: number;
}

/** The most pages that fit one engine (the CLI's memory rule, src/cli/memory.ts), rounded down to a multiple of `step`. */
export function largestFitting(step: number): number {
  let n = step;
  while (engineFits(n + step)) n += step;
  return n;
}

export interface RunOptions {
  passes?: number;
  /** Time the read-once floor over the guest pages (wasm). */
  floor?: boolean;
  /** Called with the Ksm after loading, before scanning (e.g. to measure something else). */
  afterLoad?: (ksm: Ksm) => void;
  /** Called after the passes, before the Ksm is dropped. */
  after?: (ksm: Ksm) => void;
}

export async function runWorkload(engine: Engine, w: Workload, options: RunOptions = {}): Promise<WorkloadRun> {
  const pages = totalPages(w);
  const ksm = await Ksm.create({ engine, maxMemory: engineMemoryFor(pages) });
  const load = time(() => loadWorkload(ksm, w));
  const liveAfterLoad = ksm.live();
  let floor: Timing | undefined;
  if (options.floor && engine === 'wasm') floor = timeFloor(ksm);
  options.afterLoad?.(ksm);
  ksm.setKnobs({ pagesToScan: Math.max(pages + 1, 100), run: 1 });
  const passes: Pass[] = [];
  let before = ksm.stats().pagesScanned;
  for (let p = 0; p < (options.passes ?? 5); p++) {
    const t = time(() => ksm.scanFull());
    passes.push({ ms: t.ms, cpuMs: t.cpuMs, wallMs: t.wallMs, scanned: t.value.pagesScanned - before, stats: t.value });
    before = t.value.pagesScanned;
  }
  const settled = settledAt(passes.map((p) => p.stats));
  const upTo = passes.slice(0, settled);
  const run: WorkloadRun = {
    engine, workload: w.name, pages, load, passes, settledAt: settled,
    settle: sumTimings(upTo),
    floor, liveAfterLoad, live: ksm.live(), rmapItems: ksm.stats().rmapItems,
  };
  options.after?.(ksm);
  ksm.setKnob('run', 0);
  return run;
}

/**
 * The read-once floor of a loaded workload: every present guest page, read once by the floor
 * module in the engine's own memory (the median of three reads).
 */
export function timeFloor(ksm: Ksm): Timing {
  return timeReads(ksm, guestAddresses(ksm));
}

/** The guest pages' addresses, in the order the scanner visits them. */
export function guestAddresses(ksm: Ksm): Uint32Array {
  const core = (ksm.backend as WasmBackend).core;
  const out: number[] = [];
  for (const space of ksm.spaces()) for (let vpn = 0; vpn < space.pages; vpn++) out.push(core.pageAddress(space.id, vpn) >>> 0);
  return new Uint32Array(out);
}

/** The floor module reading the pages at the addresses of `list` once: the median of three reads. */
export function timeReads(ksm: Ksm, list: Uint32Array): Timing {
  const core = (ksm.backend as WasmBackend).core;
  const floor = floorFor(core.memory);
  const room = SCRATCH_SIZE / 4;
  const at = SCRATCH_LOCATION;
  readAll(floor, core.memory, list.subarray(0, Math.min(list.length, 64)), at, room); // compile outside the clock
  const samples = [0, 1, 2].map(() => time(() => readAll(floor, core.memory, list, at, room)));
  samples.sort((a, b) => a.ms - b.ms);
  const { ms, cpuMs, wallMs } = samples[1];
  return { ms, cpuMs, wallMs };
}

/** A short name for a pass: 1 first, 2 merge, 3-4 steady, 5 the first smart_scan skip round. */
export const PASS_NAMES = ['first', 'merge', 'steady', 'steady', 'skip round'];
