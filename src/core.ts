/**
 * The only file that touches WebAssembly: it loads the AssemblyScript core (Node and browsers
 * alike: the binary is embedded as base64), keeps the views of its memory, and implements the
 * engine contract (backend.ts) on top of the core's numbers-only exports. Their types and every
 * constant come from src/generated/core-abi.ts, which the build writes from the core itself.
 */
import {
  PAGE_SHIFT, PAGE_SIZE,
  type Advice, type BatchResult, type EngineCounters, type EngineLive, type EngineSpaceCounters,
  type ItemState, type KsmBackend, type PageInfo, type PageMapping, type ScanKnobs,
} from './backend.js';
import { ENOMEM, KsmCoreAbort, KsmError } from './errors.js';
import * as abi from './generated/core-abi.js';
import type { CoreExports } from './generated/core-abi.js';
import { debugWasmBase64, fingerprintsDebugWasmBase64, fingerprintsWasmBase64, releaseWasmBase64 } from './generated/wasm.js';
import { fingerprintPages } from './fingerprint/hash.js';

function decodeBase64(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

const BUILDS = {
  release: releaseWasmBase64, debug: debugWasmBase64,
  fingerprints: fingerprintsWasmBase64, 'fingerprints-debug': fingerprintsDebugWasmBase64,
};

type Build = keyof typeof BUILDS;

/**
 * Each build compiled once per thread (or page), whichever way it was first asked for: async
 * (engines), sync (the page hasher, modules for worker threads) or handed over by another thread.
 * Every Ksm then instantiates its own memory.
 */
const modules = new Map<Build, WebAssembly.Module>();
const compiling = new Map<Build, Promise<WebAssembly.Module>>();

function compileCore(build: Build): Promise<WebAssembly.Module> {
  const ready = modules.get(build);
  if (ready) return Promise.resolve(ready);
  let pending = compiling.get(build);
  if (!pending) {
    pending = WebAssembly.compile(decodeBase64(BUILDS[build]) as BufferSource).then((module) => {
      if (!modules.has(build)) modules.set(build, module); // a sync compile meanwhile stays the one
      return modules.get(build)!;
    });
    compiling.set(build, pending);
  }
  return pending;
}

/** A build's module, compiled now (synchronously) if this thread has none yet. */
function compiledSync(build: Build): WebAssembly.Module {
  let module = modules.get(build);
  if (!module) {
    module = new WebAssembly.Module(decodeBase64(BUILDS[build]) as BufferSource);
    modules.set(build, module);
  }
  return module;
}

export interface LoadOptions {
  debug: boolean;
  /** Cap on linear memory, bytes. */
  maxMemory: number;
  /** The fingerprint engine (frozen inputs; docs/fingerprints.md) instead of the page engine. */
  fingerprints?: boolean;
}

/** Loads a fresh core and returns it as an engine. */
export async function loadWasmBackend({ debug, maxMemory, fingerprints = false }: LoadOptions): Promise<WasmBackend> {
  const build = fingerprints ? (debug ? 'fingerprints-debug' : 'fingerprints') : (debug ? 'debug' : 'release');
  const module = await compileCore(build);
  const imports = coreImports();
  const instance = await WebAssembly.instantiate(module, imports.object);
  const core = imports.bind(instance);
  return new WasmBackend(core, Math.ceil(maxMemory / WASM_PAGE_BYTES));
}

/** Compiled cores, by build: what a worker thread is handed so that it compiles none. */
export type CompiledCores = Partial<Record<Build, WebAssembly.Module>>;

/**
 * The release core (the page hasher's) and the engine's build, compiled in this thread, to post to
 * worker threads. A module posted to a worker shares its compiled code: the worker neither compiles
 * it again nor starts cold, since V8's optimised code for a hot function serves every thread.
 */
export function compiledCores(fingerprints: boolean): CompiledCores {
  const engine = fingerprints ? 'fingerprints' : 'release';
  return { release: compiledSync('release'), [engine]: compiledSync(engine) };
}

/** Takes compiled cores posted by another thread (compiledCores) as this thread's own. */
export function adoptCompiledCores(cores: CompiledCores): void {
  for (const [build, module] of Object.entries(cores) as Array<[Build, WebAssembly.Module]>) modules.set(build, module);
}

/**
 * A fresh release core, compiled and instantiated synchronously (Node, and Web Workers; a browser's
 * main thread refuses synchronous compiles of this size), not yet initialised. For the page hasher
 * (src/fingerprint/hash.ts), which only calls the core's pure functions.
 */
export function instantiateCoreSync(): CoreExports {
  const imports = coreImports();
  return imports.bind(new WebAssembly.Instance(compiledSync('release'), imports.object));
}

/** The core's one import (abort, which reads its message from the instance's memory once bound). */
function coreImports(): { object: WebAssembly.Imports; bind(instance: WebAssembly.Instance): CoreExports } {
  let memory: WebAssembly.Memory | undefined;
  const abort = (message: number, file: number, line: number, column: number): never => {
    const text = (ptr: number) => (memory && ptr ? readAsString(memory, ptr) : '?');
    throw new KsmCoreAbort(`core invariant broken: ${text(message)} at ${text(file)}:${line}:${column}`);
  };
  return {
    object: { env: { abort } },
    bind(instance) {
      const core = instance.exports as unknown as CoreExports;
      memory = core.memory;
      return core;
    },
  };
}

/** An AssemblyScript string: UTF-16 code units, with its byte length in the word before it. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint32Array(memory.buffer)[(ptr - 4) >>> 2];
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

/** Bytes per WebAssembly memory page (the unit of maxWasmPages). */
const WASM_PAGE_BYTES = 65536;

/** pageInfo's codes, by the core's numbers. */
const MAPPINGS: Record<number, PageMapping> = {
  [abi.MAPPING_UNMAPPED]: 'unmapped', [abi.MAPPING_ABSENT]: 'absent', [abi.MAPPING_PRIVATE]: 'private',
  [abi.MAPPING_COW]: 'cow', [abi.MAPPING_KSM]: 'ksm', [abi.MAPPING_ZERO]: 'zero', [abi.MAPPING_SPLIT_ZERO]: 'split-zero',
};
const ITEM_STATES: Record<number, ItemState> = {
  [abi.ITEM_STATE_NONE]: 'none', [abi.ITEM_STATE_VOLATILE]: 'volatile', [abi.ITEM_STATE_UNSTABLE]: 'unstable',
  [abi.ITEM_STATE_STABLE]: 'stable', [abi.ITEM_STATE_SKIPPED]: 'skipped',
};

/** The value of a constant the instance exports (the builds differ in a few: ENGINE_FINGERPRINTS, N_KPFN_BITS). */
function exportedConstant(core: CoreExports, name: string): number {
  const global = (core as unknown as Record<string, unknown>)[name];
  if (!(global instanceof WebAssembly.Global)) throw new Error(`the core exports no constant ${name}`);
  return Number(global.value);
}

/** Fingerprint records loaded per call into the core: their page indices and records fill the scratch area. */
export const FINGERPRINT_BATCH_PAGES = Math.floor(abi.SCRATCH_SIZE / (4 + abi.FP_RECORD_SIZE) / 64) * 64;
/** Where a batch's records are staged: after its page indices, in the scratch area. */
const RECORDS_STAGE = abi.SCRATCH_LOCATION + FINGERPRINT_BATCH_PAGES * 4;

export class WasmBackend implements KsmBackend {
  readonly engine: 'wasm' | 'fingerprints';
  #buffer: ArrayBuffer | undefined;
  #bytes = new Uint8Array(0);
  #counters = new BigInt64Array(0);

  constructor(readonly core: CoreExports, maxWasmPages: number) {
    if (core.init(maxWasmPages) !== 0) throw new RangeError(`maxMemory of ${maxWasmPages} × 64 KiB is too small for the core`);
    this.engine = exportedConstant(core, 'ENGINE_FINGERPRINTS') ? 'fingerprints' : 'wasm';
  }

  /**
   * Views of linear memory. When memory grows, the old ArrayBuffer is detached, so every view is
   * rebuilt whenever the buffer changed; nothing else keeps a view across calls.
   */
  #views(): { bytes: Uint8Array; counters: BigInt64Array } {
    const buffer = this.core.memory.buffer;
    if (buffer !== this.#buffer) {
      this.#buffer = buffer as ArrayBuffer;
      this.#bytes = new Uint8Array(buffer);
      this.#counters = new BigInt64Array(buffer, abi.COUNTERS_LOCATION, abi.COUNTERS_COUNT);
    }
    return { bytes: this.#bytes, counters: this.#counters };
  }

  #counter(index: number): number { return Number(this.#views().counters[index]); }

  setScanKnobs(k: ScanKnobs): void {
    this.core.setScanKnobs(k.maxPageSharing, +k.useZeroPages, +k.smartScan, k.stableNodeChainsPruneMillisecs >>> 0, +k.runUnmerge);
  }

  createSpace(pages: number, domain = abi.DEFAULT_DOMAIN): number { return this.core.createSpace(pages, domain); }
  growSpace(id: number, pages: number): number { return this.core.growSpace(id, pages); }
  fork(parent: number): number { return this.core.forkSpace(parent); }
  exit(id: number): void { this.core.exitSpace(id); }

  write(id: number, address: number, data: Uint8Array): number {
    if (this.engine === 'fingerprints') return this.#writeFingerprinted(id, address, data);
    const first = Math.floor(address / PAGE_SIZE);
    const last = Math.floor((address + data.length - 1) / PAGE_SIZE);
    if (first === last) { // the common case: one crossing, then the bytes
      const at = this.core.prepareWritePage(id, first, +(data.length === PAGE_SIZE)) >>> 0;
      if (at === 0) return ENOMEM;
      this.#views().bytes.set(data, at + address - first * PAGE_SIZE);
      return 0;
    }
    const firstWhole = address === first * PAGE_SIZE;
    const lastWhole = address + data.length === (last + 1) * PAGE_SIZE;
    if (this.core.prepareWrite(id, first, last - first + 1, +firstWhole, +lastWhole) !== 0) return ENOMEM;
    const { bytes } = this.#views(); // after prepareWrite: memory may have grown
    let done = 0;
    for (let vpn = first; vpn <= last; vpn++) {
      const offset = vpn === first ? address - first * PAGE_SIZE : 0;
      const length = Math.min(PAGE_SIZE - offset, data.length - done);
      bytes.set(data.subarray(done, done + length), this.#pageAddress(id, vpn) + offset);
      done += length;
    }
    return 0;
  }

  /**
   * The fingerprint engine's write: whole pages only, each fingerprinted (src/fingerprint/hash.ts)
   * and its fingerprint written to the page's frame; the bytes themselves are not kept.
   */
  #writeFingerprinted(id: number, address: number, data: Uint8Array): number {
    if (address % PAGE_SIZE !== 0 || data.length % PAGE_SIZE !== 0) {
      throw new KsmError('EINVAL', 'the fingerprint engine takes whole pages only (it keeps a fingerprint, not the bytes)');
    }
    const step = 256 * PAGE_SIZE; // fingerprint a chunk at a time: records for 1 MiB of pages
    for (let done = 0; done < data.length; done += step) {
      const chunk = data.subarray(done, Math.min(data.length, done + step));
      const status = this.writeFingerprints(id, (address + done) / PAGE_SIZE, fingerprintPages(chunk));
      if (status !== 0) return status;
    }
    return 0;
  }

  /**
   * Fingerprint engine: pages from `firstVpn` get the contents whose records (FP_RECORD_SIZE bytes
   * each, src/fingerprint/hash.ts) are given, as a write of those whole pages would. 0, or ENOMEM
   * with nothing written (the pages are prepared together first, as a multi-page write's are).
   */
  writeFingerprints(id: number, firstVpn: number, records: Uint8Array): number {
    this.#refuseRecords();
    const count = records.length / abi.FP_RECORD_SIZE;
    if (count === 0) return 0;
    // All or nothing: every page made writable first; the batches after cannot run out of memory.
    if (this.core.prepareWrite(id, firstVpn, count, 1, 1) !== 0) return ENOMEM;
    const vpns = Uint32Array.from({ length: count }, (_, i) => firstVpn + i);
    if (this.writeFingerprintsAt(id, vpns, records) !== 0) throw new Error('fingerprint records failed to load after their pages were prepared');
    return 0;
  }

  writeFingerprintsAt(id: number, vpns: Uint32Array, records: Uint8Array): number {
    this.#refuseRecords();
    if (records.length !== vpns.length * abi.FP_RECORD_SIZE) throw new RangeError(`${vpns.length} pages need ${vpns.length * abi.FP_RECORD_SIZE} bytes of records, not ${records.length}`);
    for (let first = 0; first < vpns.length; first += FINGERPRINT_BATCH_PAGES) {
      const n = Math.min(FINGERPRINT_BATCH_PAGES, vpns.length - first);
      // Both staged in the scratch area: the page indices, then their records.
      const { bytes } = this.#views();
      new Uint32Array(bytes.buffer, abi.SCRATCH_LOCATION, n).set(vpns.subarray(first, first + n));
      bytes.set(records.subarray(first * abi.FP_RECORD_SIZE, (first + n) * abi.FP_RECORD_SIZE), RECORDS_STAGE);
      if (this.core.writeFingerprintRecords(id, abi.SCRATCH_LOCATION, n, RECORDS_STAGE) !== 0) return ENOMEM;
    }
    return 0;
  }

  #refuseRecords(): void {
    if (this.engine !== 'fingerprints') throw new KsmError('EINVAL', 'only the fingerprint engine takes fingerprint records');
  }

  read(id: number, address: number, out: Uint8Array): void {
    this.#refuseBytes();
    const { bytes } = this.#views();
    let done = 0;
    while (done < out.length) {
      const at = address + done;
      const vpn = Math.floor(at / PAGE_SIZE);
      const offset = at - vpn * PAGE_SIZE;
      const length = Math.min(PAGE_SIZE - offset, out.length - done);
      const from = this.#pageAddress(id, vpn) + offset;
      out.set(bytes.subarray(from, from + length), done);
      done += length;
    }
  }

  /** Addresses are u32 in the core; a WebAssembly i32 arrives signed, so past 2 GiB it needs `>>> 0`. */
  #pageAddress(id: number, vpn: number): number { return this.core.pageAddress(id, vpn) >>> 0; }

  pageView(id: number, vpn: number): Uint8Array {
    this.#refuseBytes();
    const at = this.#pageAddress(id, vpn);
    return this.#views().bytes.subarray(at, at + PAGE_SIZE);
  }

  madvise(id: number, first: number, count: number, advice: Advice): number {
    return statusOrFlags(this.core.madvise(id, first, count, advice));
  }

  unmap(id: number, first: number, count: number): void { this.core.unmapPages(id, first, count); }
  setMergeAny(id: number, on: boolean): number { return statusOrFlags(this.core.setMergeAny(id, +on)); }

  scanBatch(budget: number, nowMs: number): BatchResult {
    const packed = this.core.scan(budget >>> 0, Math.floor(nowMs) >>> 0);
    const flags = packed % abi.BATCH_SCANNED_UNIT;
    return {
      scanned: (packed - flags) / abi.BATCH_SCANNED_UNIT,
      passEnded: (flags & abi.BATCH_PASS_ENDED) !== 0,
      status: flags & abi.BATCH_NOMEM ? ENOMEM : 0,
      noSlots: (flags & abi.BATCH_NO_SLOTS) !== 0,
    };
  }

  unmergeAll(): number { return this.core.unmergeAll() === 0 ? 0 : ENOMEM; }
  removeAllStableNodes(): boolean { return this.core.removeAllStableNodes() !== 0; }

  counters(): EngineCounters {
    const c = (index: number) => this.#counter(index);
    return {
      pagesShared: c(abi.C_PAGES_SHARED),
      pagesSharing: c(abi.C_PAGES_SHARING),
      pagesUnshared: c(abi.C_PAGES_UNSHARED),
      rmapItems: c(abi.C_RMAP_ITEMS),
      pagesScanned: c(abi.C_PAGES_SCANNED),
      pagesSkipped: c(abi.C_PAGES_SKIPPED),
      fullScans: c(abi.C_FULL_SCANS),
      stableNodeChains: c(abi.C_CHAINS),
      stableNodeDups: c(abi.C_DUPS),
      ksmZeroPages: c(abi.C_ZERO_PAGES),
      cowKsm: c(abi.C_COW_KSM),
    };
  }

  spaceCounters(id: number): EngineSpaceCounters {
    this.core.spaceInfo(id);
    const cell = (i: number) => this.#counter(abi.C_SPACE_INFO + i);
    const flags = cell(4);
    return {
      rmapItems: cell(0),
      mergingPages: cell(1),
      zeroPages: cell(2),
      mergeable: cell(3) !== 0,
      mergeAny: (flags & abi.SPACE_MERGE_ANY) !== 0,
      registered: (flags & abi.SPACE_REGISTERED) !== 0,
    };
  }

  pageInfo(id: number, vpn: number): PageInfo {
    this.core.pageInfo(id, vpn);
    const at = abi.C_PAGE_INFO;
    const cell = (i: number) => this.#counter(at + i);
    return {
      mapping: MAPPINGS[cell(0)],
      frame: cell(1),
      mapcount: cell(2),
      mergeable: cell(3) !== 0,
      item: ITEM_STATES[cell(4)],
      age: cell(5),
      remainingSkips: cell(6),
      huge: cell(7) !== 0,
    };
  }

  /** The blocks the allocator holds for merging: item areas (rmap items) and slabs (stable nodes, chains). */
  #metadataBytes(): number {
    this.core.memoryInfo();
    return (this.#counter(abi.C_PAGE_INFO) + this.#counter(abi.C_ITEM_AREA_BLOCKS)) << PAGE_SHIFT;
  }

  live(): EngineLive {
    return {
      framesInUse: this.#counter(abi.C_FRAMES_IN_USE),
      mappedPages: this.#counter(abi.C_MAPPED_PAGES),
      ksmFrames: this.#counter(abi.C_KSM_FRAMES),
      metadataBytes: this.#metadataBytes(),
      memoryBytes: this.core.memorySize(),
      hugePages: this.#counter(abi.C_HUGE_PAGES),
      hugePageSplits: this.#counter(abi.C_THP_SPLITS),
      splitZeroPages: this.#counter(abi.C_SPLIT_ZERO_PAGES),
    };
  }

  /**
   * The engine's own memory as its allocator counts it (page bytes left out): blocks carved into
   * record slabs, page-table blocks, the most of both at once so far, the frame table, and the
   * records in use. For the bench's memory suite and tests.
   */
  engineMemory(): EngineMemory {
    this.core.memoryInfo();
    const cell = (i: number) => this.#counter(abi.C_PAGE_INFO + i);
    const block = 1 << PAGE_SHIFT;
    return {
      slabBytes: cell(0) * block,
      tableBytes: cell(1) * block,
      itemAreaBytes: this.#counter(abi.C_ITEM_AREA_BLOCKS) * block,
      peakSlabAndTableBytes: cell(2) * block,
      frameTableBytes: cell(3),
      blocksInUse: cell(4),
      fixedBytes: cell(5),
      dataBytes: cell(6),
      frameTableTouchedBytes: cell(7),
      recordsInUse: this.#counter(abi.C_RECORDS_IN_USE),
    };
  }

  #refuseBytes(): void {
    if (this.engine === 'fingerprints') throw new KsmError('EINVAL', 'the fingerprint engine keeps no page bytes to read');
  }

  // ---- page primitives, for tests and benchmarks ----------------------------------------------

  /** The scratch area of linear memory (SCRATCH_SIZE bytes) as a view; valid until memory grows. */
  scratch(): Uint8Array {
    const { bytes } = this.#views();
    return bytes.subarray(abi.SCRATCH_LOCATION, abi.SCRATCH_LOCATION + abi.SCRATCH_SIZE);
  }

  /** Checksum (xxh64 as u32) of the scratch page at `index`. */
  scratchChecksum(index: number): number { return this.core.checksumAt(this.#scratchPage(index)) >>> 0; }
  scratchXxh64(length: number): bigint { return BigInt.asUintN(64, this.core.xxh64At(abi.SCRATCH_LOCATION, length)); }
  scratchCompare(a: number, b: number): number { return this.core.compareAt(this.#scratchPage(a), this.#scratchPage(b)); }
  scratchIsZero(index: number): boolean { return this.core.isZeroAt(this.#scratchPage(index)) !== 0; }
  scratchCopy(to: number, from: number): void { this.core.copyAt(this.#scratchPage(to), this.#scratchPage(from)); }
  #scratchPage(index: number): number { return abi.SCRATCH_LOCATION + (index << PAGE_SHIFT); }

  /** Black heights of a domain's trees, -1 where a red-black rule is broken (tests). */
  verifyTrees(domain = abi.DEFAULT_DOMAIN): { stable: number; unstable: number } {
    return { stable: this.core.verifyStableTree(domain), unstable: this.core.verifyUnstableTree(domain) };
  }
}

/** WasmBackend.engineMemory(): bytes, except the two counts. */
export interface EngineMemory {
  /** Record slabs: stable nodes and chains (freed records stay for later ones). */
  slabBytes: number;
  /** Page tables: directories and leaf pairs. */
  tableBytes: number;
  /** Item areas: the rmap items, 24 bytes each at their page's place, six blocks per leaf pair with one. */
  itemAreaBytes: number;
  /** The most of slabs, tables and item areas at once so far. */
  peakSlabAndTableBytes: number;
  /** The frame table as reserved for the memory cap (8 bytes per 4 KiB of it). */
  frameTableBytes: number;
  /**
   * The part of it ever written, in whole 4 KiB pages: the entries of the blocks handed out so far.
   * The rest was never touched, so the host never gave it memory.
   */
  frameTableTouchedBytes: number;
  /** Blocks handed out and not freed (frames, slabs, page tables). */
  blocksInUse: number;
  /** Linear memory before the first block: static regions and the frame table. */
  fixedBytes: number;
  /** Bytes of data in use now: blocks in use, and the fingerprint engine's fingerprint frames (fixed regions not counted). */
  dataBytes: number;
  recordsInUse: number;
}

/** A registering call's result: ENOMEM, or its flags (REGISTERED_FIRST). */
function statusOrFlags(result: number): number { return result < 0 ? ENOMEM : result; }
