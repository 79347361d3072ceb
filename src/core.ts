/**
 * The only file that touches WebAssembly: it loads the AssemblyScript core (Node and browsers
 * alike: the binary is embedded as base64), keeps the views of its memory, and implements the
 * engine contract (backend.ts) on top of the core's numbers-only exports.
 *
 * @assemblyscript/loader is used here and only here (the AssemblyScript team calls it legacy), so
 * replacing it is a one-file change.
 */
import { instantiate } from '@assemblyscript/loader';
import {
  PAGE_SHIFT, PAGE_SIZE,
  type Advice, type BatchResult, type EngineCounters, type EngineLive, type EngineSpaceCounters,
  type ItemState, type KsmBackend, type PageInfo, type PageMapping, type ScanKnobs,
} from './backend.js';
import { ENOMEM, KsmCoreAbort } from './errors.js';
import { debugWasmBase64, releaseWasmBase64 } from './generated/wasm.js';

/** The core's exports (see assembly/index.ts). Exported constants arrive as WebAssembly.Global. */
interface CoreExports {
  memory: WebAssembly.Memory;
  init(maxWasmPages: number): number;
  setScanKnobs(maxPageSharing: number, useZeroPages: number, smartScan: number, pruneMs: number, runUnmerge: number): void;
  createSpace(pages: number): number;
  forkSpace(parent: number): number;
  exitSpace(space: number): void;
  prepareWrite(space: number, first: number, count: number, firstWhole: number, lastWhole: number): number;
  prepareWritePage(space: number, vpn: number, whole: number): number;
  pageAddress(space: number, vpn: number): number;
  madvise(space: number, first: number, count: number, advice: number): number;
  unmapPages(space: number, first: number, count: number): void;
  setMergeAny(space: number, on: number): number;
  spaceCounter(space: number, field: number): number;
  spaceFlags(space: number): number;
  spaceMergeable(space: number): number;
  scan(budget: number, nowMs: number): number;
  lastBatchStatus(): number;
  lastBatchEndedPass(): number;
  unmergeAll(): number;
  removeAllStableNodes(): number;
  hasSlots(): number;
  pageInfo(space: number, vpn: number): void;
  memorySize(): number;
  checksumAt(address: number): number;
  xxh64At(address: number, length: number): bigint;
  compareAt(a: number, b: number): number;
  isZeroAt(address: number): number;
  copyAt(to: number, from: number): void;
  verifyStableTree(): number;
  verifyUnstableTree(): number;
  [constant: string]: unknown;
}

const compiled = new Map<string, Promise<WebAssembly.Module>>();

function decodeBase64(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

/** Compiles each build once per process (or page); every Ksm then instantiates its own memory. */
function compileCore(debug: boolean): Promise<WebAssembly.Module> {
  const key = debug ? 'debug' : 'release';
  let module = compiled.get(key);
  if (!module) {
    module = WebAssembly.compile(decodeBase64(debug ? debugWasmBase64 : releaseWasmBase64) as BufferSource);
    compiled.set(key, module);
  }
  return module;
}

export interface LoadOptions {
  debug: boolean;
  /** Cap on linear memory, bytes. */
  maxMemory: number;
}

/** Loads a fresh core and returns it as an engine. */
export async function loadWasmBackend({ debug, maxMemory }: LoadOptions): Promise<WasmBackend> {
  const module = await compileCore(debug);
  let memory: WebAssembly.Memory | undefined;
  const abort = (message: number, file: number, line: number, column: number): never => {
    const text = (ptr: number) => (memory && ptr ? readAsString(memory, ptr) : '?');
    throw new KsmCoreAbort(`core invariant broken: ${text(message)} at ${text(file)}:${line}:${column}`);
  };
  const { exports } = await instantiate<CoreExports>(module, { env: { abort } });
  memory = exports.memory;
  return new WasmBackend(exports as unknown as CoreExports, Math.ceil(maxMemory / 65536));
}

/** An AssemblyScript string: UTF-16 code units, with its byte length in the word before it. */
function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  const bytes = new Uint32Array(memory.buffer)[(ptr - 4) >>> 2];
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, bytes >>> 1));
}

const MAPPINGS: PageMapping[] = ['unmapped', 'absent', 'private', 'cow', 'ksm', 'zero'];
const ITEM_STATES: ItemState[] = ['none', 'volatile', 'unstable', 'stable', 'skipped'];

export class WasmBackend implements KsmBackend {
  readonly engine = 'wasm' as const;
  /** The core's exported constants (layout offsets, counter indices), read once. */
  readonly layout: Readonly<Record<string, number>>;
  #buffer: ArrayBuffer | undefined;
  #bytes = new Uint8Array(0);
  #counters = new BigInt64Array(0);

  constructor(readonly core: CoreExports, maxWasmPages: number) {
    const layout: Record<string, number> = {};
    for (const [name, value] of Object.entries(core)) {
      if (value instanceof WebAssembly.Global) layout[name] = Number(value.value);
    }
    this.layout = Object.freeze(layout);
    if (core.init(maxWasmPages) !== 0) throw new RangeError(`maxMemory of ${maxWasmPages} × 64 KiB is too small for the core`);
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
      this.#counters = new BigInt64Array(buffer, this.layout.COUNTERS_LOCATION, 32);
    }
    return { bytes: this.#bytes, counters: this.#counters };
  }

  #counter(index: number): number { return Number(this.#views().counters[index]); }

  setScanKnobs(k: ScanKnobs): void {
    this.core.setScanKnobs(k.maxPageSharing, +k.useZeroPages, +k.smartScan, k.stableNodeChainsPruneMillisecs >>> 0, +k.runUnmerge);
  }

  createSpace(pages: number): number { return this.core.createSpace(pages); }
  fork(parent: number): number { return this.core.forkSpace(parent); }
  exit(id: number): void { this.core.exitSpace(id); }

  write(id: number, address: number, data: Uint8Array): number {
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

  read(id: number, address: number, out: Uint8Array): void {
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
    const at = this.#pageAddress(id, vpn);
    return this.#views().bytes.subarray(at, at + PAGE_SIZE);
  }

  madvise(id: number, first: number, count: number, advice: Advice): number {
    return this.core.madvise(id, first, count, advice) === 0 ? 0 : ENOMEM;
  }

  unmap(id: number, first: number, count: number): void { this.core.unmapPages(id, first, count); }
  setMergeAny(id: number, on: boolean): number { return this.core.setMergeAny(id, +on) === 0 ? 0 : ENOMEM; }

  scanBatch(budget: number, nowMs: number): BatchResult {
    const scanned = this.core.scan(budget >>> 0, Math.floor(nowMs) >>> 0);
    return { scanned, passEnded: this.core.lastBatchEndedPass() !== 0, status: this.core.lastBatchStatus() };
  }

  unmergeAll(): number { return this.core.unmergeAll() === 0 ? 0 : ENOMEM; }
  removeAllStableNodes(): boolean { return this.core.removeAllStableNodes() !== 0; }
  hasSlots(): boolean { return this.core.hasSlots() !== 0; }

  counters(): EngineCounters {
    const L = this.layout;
    const c = (name: string) => this.#counter(L[name]);
    return {
      pagesShared: c('C_PAGES_SHARED'),
      pagesSharing: c('C_PAGES_SHARING'),
      pagesUnshared: c('C_PAGES_UNSHARED'),
      rmapItems: c('C_RMAP_ITEMS'),
      pagesScanned: c('C_PAGES_SCANNED'),
      pagesSkipped: c('C_PAGES_SKIPPED'),
      fullScans: c('C_FULL_SCANS'),
      stableNodeChains: c('C_CHAINS'),
      stableNodeDups: c('C_DUPS'),
      ksmZeroPages: c('C_ZERO_PAGES'),
      cowKsm: c('C_COW_KSM'),
    };
  }

  spaceCounters(id: number): EngineSpaceCounters {
    const L = this.layout;
    const flags = this.core.spaceFlags(id);
    return {
      rmapItems: this.core.spaceCounter(id, L.S_RMAP_ITEMS),
      zeroPages: this.core.spaceCounter(id, L.S_ZERO),
      mergingPages: this.core.spaceCounter(id, L.S_MERGING),
      mergeable: this.core.spaceMergeable(id) !== 0,
      mergeAny: (flags & L.SPACE_MERGE_ANY) !== 0,
      registered: (flags & L.SPACE_REGISTERED) !== 0,
    };
  }

  pageInfo(id: number, vpn: number): PageInfo {
    this.core.pageInfo(id, vpn);
    const at = this.layout.C_PAGE_INFO;
    const cell = (i: number) => this.#counter(at + i);
    return {
      mapping: MAPPINGS[cell(0)],
      frame: cell(1),
      mapcount: cell(2),
      mergeable: cell(3) !== 0,
      item: ITEM_STATES[cell(4)],
      age: cell(5),
      remainingSkips: cell(6),
    };
  }

  live(): EngineLive {
    const L = this.layout;
    return {
      framesInUse: this.#counter(L.C_FRAMES_IN_USE),
      mappedPages: this.#counter(L.C_MAPPED_PAGES),
      ksmFrames: this.#counter(L.C_KSM_FRAMES),
      metadataBytes: this.#counter(L.C_RECORDS_IN_USE) * L.RECORD_SIZE,
      memoryBytes: this.core.memorySize(),
    };
  }

  // ---- page primitives, for tests and benchmarks ----------------------------------------------

  /** The scratch area of linear memory (SCRATCH_SIZE bytes) as a view; valid until memory grows. */
  scratch(): Uint8Array {
    const { bytes } = this.#views();
    return bytes.subarray(this.layout.SCRATCH_LOCATION, this.layout.SCRATCH_LOCATION + this.layout.SCRATCH_SIZE);
  }

  /** Checksum (xxh64 as u32) of the scratch page at `index`. */
  scratchChecksum(index: number): number { return this.core.checksumAt(this.#scratchPage(index)) >>> 0; }
  scratchXxh64(length: number): bigint { return BigInt.asUintN(64, this.core.xxh64At(this.layout.SCRATCH_LOCATION, length)); }
  scratchCompare(a: number, b: number): number { return this.core.compareAt(this.#scratchPage(a), this.#scratchPage(b)); }
  scratchIsZero(index: number): boolean { return this.core.isZeroAt(this.#scratchPage(index)) !== 0; }
  scratchCopy(to: number, from: number): void { this.core.copyAt(this.#scratchPage(to), this.#scratchPage(from)); }
  #scratchPage(index: number): number { return this.layout.SCRATCH_LOCATION + (index << PAGE_SHIFT); }

  /** Black heights of the trees, -1 where a red-black rule is broken (tests). */
  verifyTrees(): { stable: number; unstable: number } {
    return { stable: this.core.verifyStableTree(), unstable: this.core.verifyUnstableTree() };
  }
}

