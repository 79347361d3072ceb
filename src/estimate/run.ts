/**
 * The estimate itself: the inputs become address spaces of one engine, ksmd runs batch by batch
 * under the given knobs, and the counters are taken at the end of every full scan until the merge
 * state settles (convergence.ts) or max-scans is reached.
 */
import { Ksm } from '../ksm.js';
import { KsmError } from '../errors.js';
import type { KsmStats } from '../stats.js';
import type { AddressSpace } from '../space.js';
import { hasConverged, settledAt } from './convergence.js';
import { scanCpuMs, scanWork, type ScanWork } from './cpu.js';
import { CliError } from '../cli/errors.js';
import { bytes } from '../cli/format.js';
import {
  ENGINE_MEMORY_LIMIT, FINGERPRINT_MAX_PAGES, engineFits, engineMemoryFor, engineMemoryNeeded, fingerprintMemoryFor, fingerprintMemoryNeeded,
} from '../cli/memory.js';
import { modeOf, type EstimateMode } from './mode.js';
import { KNOB_WRITE_ORDER, type EstimateKnobs } from './knobs.js';
import type { LiveFacts } from './proc/facts.js';
import { PAGE_SIZE, inputPages, type ImageSource } from './source.js';
import { fingerprintPlanned } from '../fingerprint/hash.js';
import { HUGE_PAGE_PAGES, MAX_SPACE_PAGES, type EngineName } from '../backend.js';
import { KernelClock } from './timing.js';
import type { ClockProfile } from './clock-profile.js';
import { DEFAULT_PROFILE } from './default-profile.js';

export interface EstimateSettings {
  knobs: EstimateKnobs;
  maxScans: number;
  stableScans: number;
  /** The engine's memory cap in bytes (Ksm's maxMemory); by default what the inputs need (src/cli/memory.ts). */
  maxMemory?: number;
  /** 'wasm' (pages), 'fingerprints' (the CLI picks: options.ts), or 'reference' (tests). */
  engine?: EngineName;
  /** How this host's ksmd spends time (profile.ts); the shipped default if not given. */
  profile?: ClockProfile;
  /** Called after every full scan (progress). */
  onScan?: (scan: ScanRecord, run: { pages: number }) => void;
  /** The sharing domain of the input at each index (undefined: the default domain). */
  domainOf?: (index: number) => string | undefined;
}

/** The counters at the end of one full scan, and the time it took to get there. */
export interface ScanRecord extends KsmStats {
  /** ms since run=1 by the real ksmd's wall clock: its sleeps as its timers last, and its CPU (timing.ts). */
  simulatedMs: number;
  /** ms this run has spent inside ksmd batches so far. */
  wallMs: number;
  /** Batches so far. */
  batches: number;
  /** Zero-filled subpages that huge-page splits have mapped to the zero page so far (memory freed no KSM counter shows). */
  splitZeroPages: number;
  /** What this scan did, and ksmd's predicted CPU ms since run=1 (cpu.ts). */
  work: ScanWork;
  cpuMs: number;
}

/** /proc/PID/ksm_stat of a space, the JSON's fields. */
export interface SpaceRecord { name: string; ksmRmapItems: number; ksmMergingPages: number; ksmZeroPages: number; ksmProcessProfit: number }

export interface EstimateRun {
  /** The engine's kind: pages compared whole, or fingerprints (mode.ts). */
  mode: EstimateMode;
  knobs: EstimateKnobs;
  /** The clock profile the times were predicted with. */
  profile: ClockProfile;
  spaces: Array<{ name: string; pages: number; live?: LiveFacts }>;
  scans: ScanRecord[];
  /** Every space's ksm_stat after every full scan (spacesPerScan[i] goes with scans[i]). */
  spacesPerScan: SpaceRecord[][];
  converged: boolean;
  settledAt: number;
  /** ms spent reading the inputs into the engine. */
  readMs: number;
  /** ms spent starting the engines (and their worker threads) before reading: not in any scan's wallMs. */
  startupMs?: number;
  /** Content shards the run was split into (src/shards/); 1 for one engine. */
  shards?: number;
}

export async function runEstimate(sources: ImageSource[], settings: EstimateSettings): Promise<EstimateRun> {
  const engine = settings.engine ?? 'wasm';
  const maxMemory = settings.maxMemory ?? memoryCap(sources, engine);
  checkCap(sources, maxMemory, engine);
  let batches = 0;
  let cpuDone = 0;
  let scanStart: KsmStats | undefined;
  let batchesAtScanStart = 0;
  const profile = settings.profile ?? DEFAULT_PROFILE; // (profile.ts reads files: not here, so browsers run this too)
  const clock = new KernelClock(profile, settings.knobs.sleepMillisecs);
  let msPerBatch = 0; // the last scan's, for the engine's clock mid-scan (chain prunes, the advisor)

  const started = performance.now();
  const ksm = await Ksm.create({
    engine,
    maxMemory,
    clock: () => clock.now + (batches - batchesAtScanStart) * msPerBatch,
    cpuClock: () => cpuDone + (scanStart ? scanCpuMs(scanWork(scanStart, ksm.stats(), batches - batchesAtScanStart), profile) : 0),
  });
  setKnobs(ksm, settings.knobs);
  const t0 = performance.now();
  const startupMs = t0 - started;
  const spaces = loadSpaces(ksm, sources, maxMemory, settings.domainOf);
  const readMs = performance.now() - t0;

  const scans: ScanRecord[] = [];
  const spacesPerScan: SpaceRecord[][] = [];
  const pages = inputPages(sources);
  let wallMs = 0;
  let cpu = 0;
  scanStart = ksm.stats();
  ksm.setKnob('run', 1);
  while (scans.length < settings.maxScans && !hasConverged(scans, settings.stableScans)) {
    const start = performance.now();
    const batch = scanOnce(ksm, maxMemory);
    wallMs += performance.now() - start;
    batches++;
    if (!batch.ran) throw new Error('ksmd found nothing to scan (no mergeable space)');
    if (!batch.fullScan) continue;
    const stats = ksm.stats();
    const work = scanWork(scanStart, stats, batches - batchesAtScanStart);
    const scanCpu = scanCpuMs(work, profile);
    const before = clock.now;
    const simulatedMs = clock.scan(work.batches, scanCpu);
    msPerBatch = (simulatedMs - before) / work.batches;
    batchesAtScanStart = batches;
    cpu += scanCpu;
    cpuDone = cpu;
    scanStart = stats;
    const record = { ...stats, simulatedMs, wallMs, batches, splitZeroPages: ksm.live().splitZeroPages, work, cpuMs: cpu };
    scans.push(record);
    spacesPerScan.push(spaces.map(spaceRecord));
    settings.onScan?.(record, { pages });
  }
  return {
    mode: modeOf(engine),
    knobs: settings.knobs,
    profile,
    spaces: sources.map((s) => ({ name: s.name, pages: s.pages, live: s.live })),
    scans,
    spacesPerScan,
    converged: hasConverged(scans, settings.stableScans),
    settledAt: settledAt(scans),
    readMs,
    startupMs,
    shards: 1,
  };
}

/** One ksmd batch; running out of the engine's memory is said in terms of the cap. */
function scanOnce(ksm: Ksm, maxMemory: number) {
  try {
    return ksm.scan();
  } catch (error) {
    if (error instanceof KsmError && error.code === 'ENOMEM') {
      throw new CapExceeded(`ksmd's rmap items and stable nodes do not fit beside the inputs under the engine's memory cap of ${bytes(maxMemory)}${RAISE_CAP}`);
    }
    throw error;
  }
}

const RAISE_CAP = ` (raise it with --max-memory, at most ${bytes(ENGINE_MEMORY_LIMIT)})`;

/** An engine ran out of its memory cap, loading the inputs or with ksmd's records beside them. */
export class CapExceeded extends CliError {
  constructor(message: string) {
    super('input', message);
  }
}

/**
 * Why one engine of `engine` can never hold `pages` pages of inputs, whatever its cap (a sentence
 * that starts "the inputs hold"), or undefined if one can.
 */
export function beyondOneEngine(pages: number, engine: EngineName): string | undefined {
  const held = inputsHold(pages);
  if (engine === 'fingerprints') {
    return pages > FINGERPRINT_MAX_PAGES ? `${held} (${pages} pages), more than one fingerprint engine holds (${FINGERPRINT_MAX_PAGES} pages, ${bytes(FINGERPRINT_MAX_PAGES * PAGE_SIZE)} of pages)` : undefined;
  }
  return engineFits(pages) ? undefined : `${held}, ${bytes(engineMemoryNeeded(pages))} with the engine's records: more than one engine can have (${bytes(ENGINE_MEMORY_LIMIT)}, the limit of wasm32)`;
}

/** How the refusals below begin. */
const inputsHold = (pages: number): string => `the inputs hold ${bytes(pages * PAGE_SIZE)} of pages`;

/** The cap when none is given: what the inputs need (every frame of an estimate is an input page). */
export const memoryCap = (sources: readonly ImageSource[], engine: EngineName = 'wasm'): number =>
  (engine === 'fingerprints' ? fingerprintMemoryFor : engineMemoryFor)(inputPages(sources));

/**
 * Refuses, before anything is read, inputs that cannot fit: more than one engine can hold with its
 * records (by the memory rule), or pages alone beyond the cap. Anything closer is tried, and an
 * engine that runs out of memory says so in terms of the cap. `oneShard`: why the inputs run as
 * one engine rather than in content shards (choose.ts oneShardReason), said with the refusal.
 */
export function checkCap(sources: readonly ImageSource[], maxMemory: number, engine: EngineName = 'wasm', oneShard?: string): void {
  checkSpaceSizes(sources);
  const pages = inputPages(sources);
  const fingerprints = engine === 'fingerprints';
  const beyond = beyondOneEngine(pages, engine);
  if (beyond && fingerprints) throw new CliError('input', `${beyond}; ${oneShard ? `${oneShard}: ` : ''}estimate fewer inputs at a time`);
  if (beyond) throw new CliError('input', `${beyond}; --mode fingerprints holds them`);
  const over = overCap(pages, maxMemory, engine);
  if (over) throw new CliError('input', fingerprints ? over : `${over}; --mode fingerprints holds them in less`);
}

/**
 * Why one engine under the cap `maxMemory` cannot hold `pages` pages by the memory rule (a
 * sentence that starts "the inputs hold"), or undefined. Inputs beyond any engine are
 * beyondOneEngine's.
 */
export function overCap(pages: number, maxMemory: number, engine: EngineName): string | undefined {
  const held = inputsHold(pages);
  if (engine === 'fingerprints') {
    const needed = fingerprintMemoryNeeded(pages);
    return needed > maxMemory ? `${held}: their fingerprints need ${bytes(needed)}, more than the engine's memory cap of ${bytes(maxMemory)}${RAISE_CAP}` : undefined;
  }
  return pages * PAGE_SIZE > maxMemory ? `${held}, more than the engine's memory cap of ${bytes(maxMemory)}${RAISE_CAP}` : undefined;
}

/** Refuses an input larger than one address space of the engine (MAX_SPACE_PAGES pages), before anything is read. */
export function checkSpaceSizes(sources: readonly ImageSource[]): void {
  const big = sources.find((s) => (s.spacePages ?? s.pages) > MAX_SPACE_PAGES);
  if (big) {
    throw new CliError('input', `${big.name}: ${bytes((big.spacePages ?? big.pages) * PAGE_SIZE)} of address space, more than one space of the engine holds (${bytes(MAX_SPACE_PAGES * PAGE_SIZE)}); split it into several inputs`);
  }
}

export function setKnobs(ksm: Ksm, knobs: EstimateKnobs): void {
  for (const name of KNOB_WRITE_ORDER) {
    if (name === 'pagesToScan' && knobs.advisorMode === 'scan-time') continue; // the advisor sets it
    ksm.setKnob(name, knobs[name]);
  }
}

/** Every source into its space, in order: forks of the spaces loaded before them where a source says so. */
export function loadSpaces(ksm: Ksm, sources: readonly ImageSource[], maxMemory: number, domainOf?: (index: number) => string | undefined): AddressSpace[] {
  const loaded = new Map<ImageSource, AddressSpace>();
  return sources.map((source, i) => {
    const space = loadSpace(ksm, source, maxMemory, source.forkOf && loaded.get(source.forkOf), domainOf?.(i));
    loaded.set(source, space);
    return space;
  });
}

/**
 * One source into one new, mergeable space (of sharing domain `domain`, if given); a fork of
 * `parent` when the source shares frames with it (a live process after fork()): then only its own
 * pages are written, the parent's pages it does not map are dropped, and it stays in the parent's
 * domain.
 */
function loadSpace(ksm: Ksm, source: ImageSource, maxMemory: number, parent?: AddressSpace, domain?: string): AddressSpace {
  try {
    const space = parent ? parent.fork(source.name) : ksm.createSpace({ name: source.name, pages: Math.max(1, source.spacePages ?? source.pages), domain });
    if (source.readRecords && ksm.engine === 'fingerprints') source.readRecords((records, page) => space.writeFingerprints(page, records));
    else if (source.readPlans && ksm.engine === 'fingerprints') {
      // Generated pages are made and fingerprinted in the hasher's memory, not copied through here.
      source.readPlans((plans, page) => space.writeFingerprints(page, fingerprintPlanned(plans)));
    } else {
      let next = 0;
      source.read((chunk, page = next) => {
        space.write(page, chunk);
        next = page + chunk.length / PAGE_SIZE;
      });
    }
    if (parent) for (const page of source.dropPages ?? []) space.dontneed(page, 1);
    else {
      for (const first of source.hugeSpans ?? []) space.collapse(first, HUGE_PAGE_PAGES);
      space.mergeable();
    }
    return space;
  } catch (error) {
    if (error instanceof KsmError && error.code === 'ENOMEM') {
      throw new CapExceeded(`${source.name}: does not fit, with the inputs before it and the engine's metadata, under the engine's memory cap of ${bytes(maxMemory)}${RAISE_CAP}`);
    }
    throw error;
  }
}

export function spaceRecord(space: AddressSpace): SpaceRecord {
  const st = space.ksmStat();
  return { name: space.name, ksmRmapItems: st.ksmRmapItems, ksmMergingPages: st.ksmMergingPages, ksmZeroPages: st.ksmZeroPages, ksmProcessProfit: st.ksmProcessProfit };
}
