/**
 * Ksm: one host's KSM. It owns an engine (the WebAssembly core, or the TypeScript reference), the
 * knobs of /sys/kernel/mm/ksm with the kernel's validation, the address spaces, and ksmd.
 */
import { MAX_SPACE_PAGES, PAGE_SIZE, type EngineLive, type EngineName, type KsmBackend } from './backend.js';
import { ENOMEM, KsmError } from './errors.js';
import {
  DEFAULT_KNOBS, SYSFS_KNOB_NAMES, knobName, validateKnob,
  type AnyKnobName, type KnobName, type KnobValue, type Knobs, type KnobWrites, type SysfsKnobName,
} from './knobs.js';
import { AddressSpace } from './space.js';
import { kernelStats, sysfsCounters, SYSFS_COUNTER_NAMES, type KsmStats, type SysfsCounterName } from './stats.js';
import { adviseScanTime, initialAdvisorState, type AdvisorState } from './advisor.js';
import { Ksmd, type StartOptions } from './ksmd.js';
import { loadWasmBackend } from './core.js';
import { DISPOSE } from './dispose.js';
import { closedEngine } from './closed.js';
import { DEFAULT_DOMAIN_NAME, DomainTable, validateDomainName } from './domains.js';

/** Largest space the engines take, in pages (the core's page-table reach). */
export { MAX_SPACE_PAGES };

export interface KsmOptions {
  /**
   * 'wasm' (default): the WebAssembly core. 'reference': the plain-TypeScript engine.
   * 'fingerprints': the core holding a 128-bit fingerprint per page instead of its bytes, for inputs
   * that do not change while scanned (estimates): whole-page writes only, no reads
   * (docs/fingerprints.md).
   */
  engine?: EngineName;
  /** Use the core's debug build, which checks its invariants (slower). */
  debug?: boolean;
  /** Cap on the engine's memory in bytes (pages, page tables, metadata); past it, ENOMEM. Default 1 GiB, at most 4 GiB. */
  maxMemory?: number;
  /** Knobs to start with, by camelCase or sysfs name (run defaults to 0, as in the kernel). */
  knobs?: KnobWrites;
  /** Clock in ms for pass timing and chain pruning. Default performance.now. */
  clock?: () => number;
  /** ksmd's CPU time consumed so far, in ms, for the advisor. Default: time measured inside batches. */
  cpuClock?: () => number;
}

export interface CreateSpaceOptions {
  /** Size in pages; defaults to the image's size. */
  pages?: number;
  /** Name for messages and reports. */
  name?: string;
  /** Initial contents (every page written, so present), a multiple of 4096 bytes. */
  image?: Uint8Array;
  /** madvise(MADV_MERGEABLE) on the whole space once created. */
  mergeable?: boolean;
  /** Back the image with transparent huge pages (`space.collapse()` once written): each whole 2 MiB of it is one. */
  hugePages?: boolean;
  /**
   * Sharing domain (a name): pages of spaces in different domains never share a KSM frame; inside
   * one domain merging is the kernel's. Default "default", the one domain of every space created
   * without one. A fork stays in its parent's domain.
   */
  domain?: string;
}

export interface BatchOutcome {
  /** The batch ran (run was 1 and some space is registered). */
  ran: boolean;
  /** Pages processed (pages_scanned added). */
  scanned: number;
  /** The batch ended a full scan. */
  fullScan: boolean;
}

/** Live figures of this library's own, exact now (unlike the kernel's counters, which lag). */
export interface LiveFigures extends EngineLive {
  /** Pages the spaces map (present), as if each had its own frame. */
  guestBytes: number;
  /** Bytes the merging saves right now: mapped pages minus frames in use, in bytes. */
  bytesSavedNow: number;
}

export type FullScanListener = (stats: KsmStats) => void;

// Ksm is the host of its AddressSpaces (space.ts SpaceHost) through members kept out of the
// published types; so it does not declare `implements SpaceHost`, and those types still compile.
export class Ksm {
  #knobs: Knobs = { ...DEFAULT_KNOBS };
  readonly #spaces = new Map<number, AddressSpace>();
  readonly #domains = new DomainTable();
  /** Spaces created so far (for default names). */
  #created = 0;
  readonly #listeners = new Set<FullScanListener>();
  readonly #clock: () => number;
  readonly #cpuClock: () => number;
  #cpuMs = 0;
  #passStartMs: number | undefined;
  #advisor: AdvisorState = initialAdvisorState();
  /** ksmd waits for work (the kernel's ksm_thread_wait): run is not 1, or no space was registered at its last look. */
  #ksmdWaitsForWork = true;
  /** A registration woke a waiting ksmd, and no batch has run since. */
  #wakePending = false;
  readonly #ksmd: Ksmd;
  #backend: KsmBackend;
  readonly #engine: EngineName;
  #closed = false;

  /** Creates a host with its own engine (and its own WebAssembly memory). */
  static async create(options: KsmOptions = {}): Promise<Ksm> {
    const engine = options.engine ?? 'wasm';
    if (engine !== 'wasm' && engine !== 'reference' && engine !== 'fingerprints') {
      throw new KsmError('EINVAL', `engine must be "wasm", "reference" or "fingerprints", got ${JSON.stringify(engine)}`);
    }
    const maxMemory = options.maxMemory ?? 1 << 30;
    if (!Number.isInteger(maxMemory) || maxMemory < 1 << 20 || maxMemory > 2 ** 32) {
      throw new KsmError('EINVAL', `maxMemory must be an integer from 1 MiB to 4 GiB, got ${maxMemory}`);
    }
    const backend = engine !== 'reference'
      ? await loadWasmBackend({ debug: options.debug ?? false, maxMemory, fingerprints: engine === 'fingerprints' })
      : new (await import('./reference/index.js')).ReferenceBackend();
    return new Ksm(backend, options);
  }

  /** @internal Use Ksm.create. */
  constructor(backend: KsmBackend, options: KsmOptions = {}) {
    this.#backend = backend;
    this.#engine = backend.engine;
    this.#clock = options.clock ?? (() => performance.now());
    this.#cpuClock = options.cpuClock ?? (() => this.#cpuMs);
    this.#ksmd = new Ksmd(this);
    this.#pushScanKnobs();
    this.setKnobs(options.knobs ?? {});
  }

  /** Which engine runs underneath. */
  get engine(): EngineName { return this.#engine; }

  /** @internal The engine; it trusts its arguments, so only the driver calls it. */
  get backend(): KsmBackend { return this.#backend; }

  /**
   * Releases this host: ksmd stops, every space is gone with it, and the engine's memory is left
   * to the garbage collector. Any later call on this Ksm or on one of its spaces throws KsmError
   * EINVAL ("… was closed"); `closed` says so. Closing twice is harmless. `using ksm = …` closes
   * it at the end of the block.
   */
  close(): void {
    if (this.#closed) return;
    this.#ksmd.stop();
    this.#closed = true;
    this.#backend = closedEngine(this.#engine);
    this.#spaces.clear();
    this.#listeners.clear();
  }

  [DISPOSE](): void { this.close(); }

  /** True once close() was called. */
  get closed(): boolean { return this.#closed; }

  // ---- knobs -------------------------------------------------------------------------------

  /** The current knobs (a frozen copy). */
  get knobs(): Readonly<Knobs> { return Object.freeze({ ...this.#knobs }); }

  /**
   * Writes a knob, by camelCase or sysfs name, with the kernel's rules: EINVAL for a bad value,
   * EBUSY for max_page_sharing / merge_across_nodes while KSM pages exist. run=2 unmerges now.
   */
  setKnob(name: AnyKnobName, value: KnobValue): void {
    const knob = knobName(name);
    const parsed = validateKnob(knob, value);
    const old = this.#knobs[knob];
    switch (knob) {
      case 'run': return this.#setRun(parsed as Knobs['run']);
      case 'pagesToScan':
        if (this.#knobs.advisorMode === 'scan-time') throw new KsmError('EINVAL', 'pages_to_scan cannot be written while advisor_mode is scan-time');
        break;
      case 'maxPageSharing':
      case 'mergeAcrossNodes':
        if (parsed !== old && (this.backend.counters().pagesShared !== 0 || !this.backend.removeAllStableNodes())) {
          throw new KsmError('EBUSY', `${SYSFS_KNOB_NAMES[knob]} can only change while no KSM page exists (write run=2 first)`);
        }
        break;
      case 'advisorMode':
        if (parsed !== old) this.#resetAdvisor(parsed as Knobs['advisorMode']);
        break;
    }
    (this.#knobs as unknown as Record<string, unknown>)[knob] = parsed;
    this.#pushScanKnobs();
    if (knob === 'sleepMillisecs' && parsed !== old) this.#ksmd.wake();
  }

  /**
   * Writes several knobs in order, as successive writes to sysfs would: it stops at the first
   * refusal, and the knobs written before it stay written.
   */
  setKnobs(knobs: KnobWrites): void {
    for (const [name, value] of Object.entries(knobs)) this.setKnob(name as AnyKnobName, value as KnobValue);
  }

  #setRun(run: Knobs['run']): void {
    if (run === 2) {
      if (this.backend.unmergeAll() === ENOMEM) {
        this.#knobs.run = 0;
        this.#pushScanKnobs();
        throw new KsmError('ENOMEM', 'run=2: the private copies of the merged pages do not fit under the memory cap (run is now 0, nothing was unmerged)');
      }
      this.#passStartMs = undefined;
    }
    const wasRunning = this.#knobs.run === 1;
    this.#knobs.run = run;
    if (run !== 1) this.#ksmdWaitsForWork = true;
    this.#pushScanKnobs();
    if (run === 1 && !wasRunning) this.#ksmd.wake();
  }

  #resetAdvisor(mode: Knobs['advisorMode']): void {
    this.#advisor = initialAdvisorState();
    this.#knobs.pagesToScan = mode === 'none' ? DEFAULT_KNOBS.pagesToScan : this.#knobs.advisorMinPagesToScan;
  }

  #pushScanKnobs(): void {
    const k = this.#knobs;
    this.backend.setScanKnobs({
      maxPageSharing: k.maxPageSharing,
      useZeroPages: k.useZeroPages === 1,
      smartScan: k.smartScan === 1,
      stableNodeChainsPruneMillisecs: k.stableNodeChainsPruneMillisecs,
      runUnmerge: k.run === 2,
    });
  }

  // ---- the sysfs view ----------------------------------------------------------------------

  /** Reads a file of /sys/kernel/mm/ksm by name, as the kernel prints it (without the newline). */
  readSysfs(file: SysfsKnobName | SysfsCounterName): string {
    const counters = sysfsCounters(this.stats());
    if (Object.hasOwn(counters, file)) return String(counters[file]);
    return this.#knobText(knobName(file));
  }

  #knobText(knob: KnobName): string {
    const value = this.#knobs[knob];
    if (knob === 'advisorMode') return value === 'none' ? '[none] scan-time' : 'none [scan-time]';
    return String(value);
  }

  /** Writes a knob file of /sys/kernel/mm/ksm by name (the counters are read-only: EINVAL). */
  writeSysfs(file: SysfsKnobName, value: string | number): void {
    if (Object.values(SYSFS_COUNTER_NAMES).includes(file as never)) throw new KsmError('EINVAL', `${file} is read-only`);
    this.setKnob(file, value);
  }

  /** Every file of /sys/kernel/mm/ksm as values under the kernel's names (advisor_mode as its mode; readSysfs gives the file's text). */
  sysfs(): Record<string, number | string> {
    const out: Record<string, number | string> = sysfsCounters(this.stats());
    for (const [camel, file] of Object.entries(SYSFS_KNOB_NAMES)) out[file] = this.#knobs[camel as KnobName];
    return out;
  }

  // ---- statistics --------------------------------------------------------------------------

  /** The kernel's counters (/sys/kernel/mm/ksm), which lag copy-on-write, unmerge, unmap and exit. */
  stats(): KsmStats { return kernelStats(this.backend.counters()); }

  /** Exact figures right now, of this library's own (frames in use, bytes saved now). */
  live(): LiveFigures {
    const live = this.backend.live();
    return Object.freeze({
      ...live,
      guestBytes: live.mappedPages * PAGE_SIZE,
      bytesSavedNow: (live.mappedPages - live.framesInUse) * PAGE_SIZE,
    });
  }

  // ---- spaces ------------------------------------------------------------------------------

  /** A new address space (a process, a guest): empty, or filled from an image. */
  createSpace(options: CreateSpaceOptions | undefined | null = {}): AddressSpace {
    options ??= {};
    const { image, name = `space${this.#created + 1}` } = options;
    if (image !== undefined && (!(image instanceof Uint8Array) || image.length % PAGE_SIZE !== 0)) {
      throw new KsmError('EINVAL', `space "${name}": image must be a Uint8Array whose size is a multiple of ${PAGE_SIZE}`);
    }
    const pages = options.pages ?? (image ? image.length / PAGE_SIZE : 0);
    if (!Number.isInteger(pages) || pages < 1 || pages > MAX_SPACE_PAGES) {
      throw new KsmError('EINVAL', `space "${name}": pages must be an integer from 1 to ${MAX_SPACE_PAGES}, got ${pages}`);
    }
    if (image && image.length > pages * PAGE_SIZE) throw new KsmError('EINVAL', `space "${name}": image of ${image.length / PAGE_SIZE} pages does not fit in ${pages} pages`);
    const domain = options.domain === undefined ? DEFAULT_DOMAIN_NAME : validateDomainName(options.domain, `space "${name}"`);
    const id = this.backend.createSpace(pages, this.#domains.idFor(domain));
    if (id === ENOMEM) throw new KsmError('ENOMEM', `space "${name}" of ${pages} pages: the engine's memory cap is reached`);
    if (image && image.length > 0 && this.backend.write(id, 0, image) === ENOMEM) {
      this.backend.exit(id);
      throw new KsmError('ENOMEM', `space "${name}": its image of ${image.length / PAGE_SIZE} pages does not fit under the engine's memory cap`);
    }
    const space = new AddressSpace(this, id, name, pages, domain);
    this.#spaces.set(id, space);
    this.#domains.retain(domain);
    this.#created++;
    if (options.hugePages) space.collapse();
    if (options.mergeable) space.mergeable();
    return space;
  }

  /** The spaces that have not exited, in creation order. */
  spaces(): AddressSpace[] { return [...this.#spaces.values()]; }

  /** The sharing domains that have spaces (not exited), with how many each. */
  domains(): Map<string, number> { return this.#domains.counts(); }

  /** @internal */
  adoptFork(parent: AddressSpace, childId: number, name: string): AddressSpace {
    const child = new AddressSpace(this, childId, name, parent.pages, parent.domain, parent.unmappedPages());
    this.#spaces.set(childId, child);
    this.#domains.retain(parent.domain);
    return child;
  }

  /** @internal */
  forget(space: AddressSpace): void {
    this.#spaces.delete(space.id);
    this.#domains.release(space.domainName());
  }

  /**
   * @internal As the kernel's __ksm_enter: the first slot on an empty list wakes a ksmd that
   * waits for work, and it runs a batch at once (the background ksmd does so now).
   */
  firstSlotRegistered(): void {
    if (!this.#ksmdWaitsForWork || this.#knobs.run !== 1) return;
    this.#wakePending = true;
    this.#ksmd.wake();
  }

  /**
   * @internal For drivers that step ksmd themselves and must be the kernel's to the batch (the
   * replay runner): true once after a registration woke a ksmd that waited for work, as the
   * kernel's ksmd then scans at once. The background ksmd (start()) needs no such help.
   */
  takeKsmdWakeup(): boolean {
    const woken = this.#wakePending;
    this.#wakePending = false;
    return woken;
  }

  // ---- ksmd --------------------------------------------------------------------------------

  /**
   * One ksmd batch of up to pages_to_scan pages, now, in the foreground. ksmd only scans while
   * run is 1: otherwise this does nothing and says so (`ran: false`).
   */
  scan(): BatchOutcome {
    if (this.#knobs.run !== 1) return { ran: false, scanned: 0, fullScan: false };
    // Whole ms, the same for both engines (the core keeps them as u32, like the kernel's jiffies).
    const now = Math.floor(this.#clock());
    const t0 = performance.now();
    const result = this.backend.scanBatch(this.#knobs.pagesToScan, now);
    if (result.scanned === 0 && !result.passEnded && result.status === 0) { // nothing registered
      this.#ksmdWaitsForWork = true;
      return { ran: false, scanned: 0, fullScan: false };
    }
    this.#passStartMs ??= now;
    this.#cpuMs += performance.now() - t0;
    if (result.status === ENOMEM && result.scanned === 0) {
      throw new KsmError('ENOMEM', 'ksmd: no memory left under the cap for rmap items or stable nodes');
    }
    this.#wakePending = false;
    this.#ksmdWaitsForWork = result.noSlots;
    if (result.passEnded) this.#endOfPass();
    return { ran: true, scanned: result.scanned, fullScan: result.passEnded };
  }

  /**
   * Runs batches until `count` more full scans have completed; returns the stats after. EINVAL
   * if ksmd cannot complete one: run is not 1, pages_to_scan is 0, or no space is registered.
   */
  scanFull(count = 1): KsmStats {
    if (!Number.isInteger(count) || count < 1) throw new KsmError('EINVAL', `scanFull: count must be a positive integer, got ${count}`);
    if (this.#knobs.run !== 1) throw new KsmError('EINVAL', 'scanFull needs run=1 (ksmd only scans while run is 1)');
    if (this.#knobs.pagesToScan === 0) throw new KsmError('EINVAL', 'scanFull: pages_to_scan is 0, so no batch makes progress');
    for (let done = 0; done < count;) {
      const batch = this.scan();
      if (!batch.ran) throw new KsmError('EINVAL', 'scanFull: no address space is registered with ksmd (madvise some pages mergeable first)');
      if (batch.fullScan) done++;
    }
    return this.stats();
  }

  #endOfPass(): void {
    const now = this.#clock();
    if (this.#knobs.advisorMode === 'scan-time') {
      this.#knobs.pagesToScan = adviseScanTime(this.#advisor, {
        pagesToScan: this.#knobs.pagesToScan,
        scanMillis: now - (this.#passStartMs ?? now),
        cpuMsTotal: this.#cpuClock(),
        maxCpu: this.#knobs.advisorMaxCpu,
        maxPagesToScan: this.#knobs.advisorMaxPagesToScan,
        targetScanTime: this.#knobs.advisorTargetScanTime,
      });
    }
    this.#passStartMs = undefined;
    if (this.#listeners.size > 0) this.#notify(this.stats());
  }

  /** Calls every listener; one that throws does not keep the others from running. The first error is rethrown after. */
  #notify(stats: KsmStats): void {
    let failure: { error: unknown } | undefined;
    for (const listener of this.#listeners) {
      try {
        listener(stats);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Calls `listener` with the counters after every full scan. Returns a function that unsubscribes. */
  onFullScan(listener: FullScanListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts ksmd in the background: sets run=1 and runs a batch every sleep_millisecs, without
   * blocking the event loop, until stop() or the signal aborts. While run is 0 or 2 it idles, and
   * it scans again when run is set back to 1. A failing batch (or listener) stops it and goes to
   * `onError` (thrown from the timer if there is none).
   */
  start(options: StartOptions = {}): void {
    if (this.#knobs.run !== 1) this.setKnob('run', 1);
    this.#ksmd.start(options);
  }

  /** Stops the background ksmd (run stays as it is; merges stay). */
  stop(): void { this.#ksmd.stop(); }

  /** True while the background ksmd is started. */
  get running(): boolean { return this.#ksmd.running; }
}
