/**
 * One content shard's engine: the pages of one shard (equal pages always in the same shard, so
 * shards never interact), in every input's space at its own address, scanned full scan by full
 * scan. Each shard replays the kernel's scan over its own pages in the global order: spaces in
 * registration order, pages in address order; a page of another shard is simply not present here.
 *
 * The engine's clock (chain prunes) is the shard's own: a KernelClock fed with the shard's own
 * work. On a frozen input that clock can change which dup of a chain takes a page, never how many
 * pages merge (README, "Bigger hosts: content shards"), so the counters do not depend on it, and a
 * shard run alone (estimate --shard) is the same as the shard run beside the others.
 */
import { Ksm } from '../ksm.js';
import { KsmError } from '../errors.js';
import type { EngineCounters } from '../backend.js';
import type { AddressSpace } from '../space.js';
import { CliError } from '../cli/errors.js';
import { bytes } from '../cli/format.js';
import { FINGERPRINT_MAX_PAGES } from '../cli/memory.js';
import { scanCpuMs, scanWork } from '../estimate/cpu.js';
import type { EstimateKnobs } from '../estimate/knobs.js';
import type { ClockProfile } from '../estimate/profile.js';
import { loadSpaces, setKnobs, spaceRecord, type EstimateSettings, type SpaceRecord } from '../estimate/run.js';
import { PAGE_SIZE, type ImageSource } from '../estimate/source.js';
import { KernelClock } from '../estimate/timing.js';
import { stopped, type StopFlag } from './stop-flag.js';

/** What a shard needs to know of the run: every space (all shards have all of them), the knobs, its memory cap. */
export interface ShardSpec {
  knobs: EstimateKnobs;
  spaces: ReadonlyArray<{ name: string; spacePages: number; domain?: string }>;
  /** The engine's memory cap, bytes (its memory grows as pages arrive). */
  maxMemory: number;
  /** For the shard's own clock (chain prunes). */
  profile: ClockProfile;
  /** Which engine holds the shard's pages (as runEstimate's `engine`; default the page engine). */
  engine?: EstimateSettings['engine'];
}

/** One shard's counters at the end of one full scan (plain data: it crosses threads and processes). */
export interface ShardScan {
  /** The engine's raw counters (summed across shards before the kernel's formulas are applied). */
  counters: EngineCounters;
  /** Every space's ksm_stat, in registration order. */
  spaces: SpaceRecord[];
  /** Zero-filled subpages huge-page splits mapped to the zero page so far. */
  splitZeroPages: number;
  /** ms spent in this scan's batches. */
  wallMs: number;
}

export class ShardEngine {
  #batches = 0;
  #batchesAtScanStart = 0;
  #msPerBatch = 0;
  #cpuMs = 0;
  #scanStart: EngineCounters | undefined;
  readonly #clock: KernelClock;
  #ksm!: Ksm;
  #spaces: AddressSpace[] = [];
  /** Per space: pages placed in this shard so far, and the last input page index placed (#place). */
  #placed: number[] = [];
  #lastPage: number[] = [];

  private constructor(readonly spec: ShardSpec) {
    this.#clock = new KernelClock(spec.profile, spec.knobs.sleepMillisecs);
  }

  /** A shard's engine under the spec's knobs, with no space yet. */
  static async create(spec: ShardSpec): Promise<ShardEngine> {
    const shard = new ShardEngine(spec);
    shard.#ksm = await Ksm.create({ engine: spec.engine ?? 'wasm', maxMemory: spec.maxMemory, clock: () => shard.#now() });
    setKnobs(shard.#ksm, spec.knobs);
    return shard;
  }

  /** Every space of the spec, of one absent page (pages come by write() and writeRecords()). */
  createSpaces(): void {
    this.#spaces = this.spec.spaces.map((s) => this.#ksm.createSpace({ name: s.name, pages: 1, domain: s.domain }));
    this.#placed = this.#spaces.map(() => 0);
    this.#lastPage = this.#spaces.map(() => -1);
  }

  /**
   * Where a batch of space `space`'s pages goes in this shard: one after the other from the first
   * free page, the space grown to hold them. The batches come in address order (ImageSource.read),
   * so the shard's pages keep their order, which is all the counters see of where pages are
   * (inputs whose pages are tied to their places, forks and huge pages, are never split:
   * partition.ts). Mapping only its own pages keeps a shard's page tables and its scans' walk to
   * its share of the pages, not every page of every input.
   */
  #place(space: number, pages: Uint32Array): Uint32Array {
    if (pages.length > 0 && pages[0] <= this.#lastPage[space]) throw new Error(`shard: pages of space ${space} out of address order (${pages[0]} after ${this.#lastPage[space]})`);
    if (pages.length > 0) this.#lastPage[space] = pages[pages.length - 1];
    const target = this.#spaces[space];
    const first = this.#placed[space];
    const end = first + pages.length;
    if (end > target.pages) target.grow(end);
    this.#placed[space] = end;
    const placed = new Uint32Array(pages.length);
    for (let i = 0; i < placed.length; i++) placed[i] = first + i;
    return placed;
  }

  /** How many pages each space has in this shard (its share, placed one after the other). */
  spaceSizes(): number[] { return this.#spaces.map((space) => space.pages); }

  /** The spaces of `sources`, this shard's pages only, loaded as one engine loads them (forks, huge pages). */
  loadSources(sources: readonly ImageSource[]): void {
    this.#spaces = loadSpaces(this.#ksm, sources, this.spec.maxMemory);
  }

  /** Writes pages of space `space`: page index pages[i] from slot slots[i] of `data` (partition.ts's PageBatch), placed by #place. */
  write(space: number, pages: Uint32Array, slots: Uint32Array, data: Uint8Array): void {
    const target = this.#spaces[space];
    try {
      const placed = this.#place(space, pages);
      for (let i = 0; i < pages.length; i++) target.write(placed[i], data.subarray(slots[i] * PAGE_SIZE, (slots[i] + 1) * PAGE_SIZE));
    } catch (error) {
      throw this.#outOfMemory(error, `${target.name}: its pages in this shard do not fit`);
    }
  }

  /** Fingerprint engine: page pages[i] of space `space` gets the contents of record i (deal-records.ts's RecordBatch), placed by #place. */
  writeRecords(space: number, pages: Uint32Array, records: Uint8Array): void {
    const target = this.#spaces[space];
    const backend = this.#ksm.backend;
    if (!backend.writeFingerprintsAt) throw new KsmError('EINVAL', `a shard of engine '${backend.engine}' takes pages, not fingerprint records`);
    let placed: Uint32Array;
    try {
      placed = this.#place(space, pages);
    } catch (error) {
      throw this.#outOfMemory(error, `${target.name}: its pages in this shard do not fit`);
    }
    if (backend.writeFingerprintsAt(target.id, placed, records) === 0) return;
    if (this.#placed.reduce((n, p) => n + p, 0) > FINGERPRINT_MAX_PAGES) {
      throw new CliError('input', `this shard got more pages than one fingerprint engine holds (${FINGERPRINT_MAX_PAGES}) by ${target.name}: give more shards (--threads), or leave --threads out`);
    }
    throw this.#noRoom(`${target.name}: its pages in this shard do not fit`);
  }

  /** Every space mergeable, ksmd running. */
  start(): void {
    for (const space of this.#spaces) space.mergeable();
    this.#ksm.setKnob('run', 1);
    this.#scanStart = this.#ksm.backend.counters();
  }

  /**
   * Full scans one after another, at most `maxScans`, each one's counters as it ends, until `stop`
   * is raised (a scan it cuts short is not given). What a shard's host runs (host.ts, worker.ts).
   */
  *scans(maxScans: number, stop: StopFlag): Generator<ShardScan> {
    for (let n = 0; n < maxScans; n++) {
      const scan = this.fullScan(stop);
      if (!scan) return;
      yield scan;
    }
  }

  /**
   * Batches until the next full scan ends; the counters then. With `stop`, a set stop flag ends the
   * scan between two batches and it returns undefined (the engine is then mid-scan: only closing it
   * is left).
   */
  fullScan(): ShardScan;
  fullScan(stop: StopFlag): ShardScan | undefined;
  fullScan(stop?: StopFlag): ShardScan | undefined {
    const t0 = performance.now();
    for (;;) {
      if (stop && stopped(stop)) return undefined;
      const batch = this.#batch();
      this.#batches++;
      if (batch.fullScan) break;
    }
    const wallMs = performance.now() - t0;
    this.#advanceClock();
    return { counters: { ...this.#ksm.backend.counters() }, spaces: this.#spaces.map(spaceRecord), splitZeroPages: this.#ksm.live().splitZeroPages, wallMs };
  }

  close(): void { this.#ksm.close(); }

  #batch() {
    try {
      const batch = this.#ksm.scan();
      if (!batch.ran) throw new Error('ksmd found nothing to scan in a shard (no space registered)');
      return batch;
    } catch (error) {
      throw this.#outOfMemory(error, 'ksmd\'s rmap items and stable nodes do not fit beside the shard\'s pages');
    }
  }

  /** The shard's clock at the end of a full scan, from the shard's own work (as runEstimate's, on fewer pages). */
  #advanceClock(): void {
    const now = this.#ksm.backend.counters();
    const work = scanWork(this.#scanStart!, now, this.#batches - this.#batchesAtScanStart);
    const before = this.#clock.now;
    const cpu = scanCpuMs(work, this.spec.profile);
    this.#msPerBatch = (this.#clock.scan(work.batches, cpu) - before) / work.batches;
    this.#cpuMs += cpu;
    this.#batchesAtScanStart = this.#batches;
    this.#scanStart = now;
  }

  #now(): number { return this.#clock.now + (this.#batches - this.#batchesAtScanStart) * this.#msPerBatch; }

  #outOfMemory(error: unknown, what: string): unknown {
    return error instanceof KsmError && error.code === 'ENOMEM' ? this.#noRoom(what) : error;
  }

  #noRoom(what: string): CliError {
    return new CliError('input', `${what} under a shard's memory cap of ${bytes(this.spec.maxMemory)} (give more shards)`);
  }
}
