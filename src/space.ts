/**
 * AddressSpace: one process's memory (the kernel's mm): read, write with copy-on-write, madvise,
 * merge-any, fork, unmap, exit, and its /proc/PID/ksm_stat. Every argument is checked here, before
 * the engine is called, so a bad call throws KsmError and changes nothing.
 */
import {
  MADV_COLLAPSE, MADV_DONTNEED, MADV_MERGEABLE, MADV_UNMERGEABLE, MAX_SPACE_PAGES, PAGE_SIZE, REGISTERED_FIRST,
  type Advice, type KsmBackend, type PageInfo,
} from './backend.js';
import { ENOMEM, KsmError } from './errors.js';
import { FP_RECORD_SIZE } from './generated/core-abi.js';
import { kernelKsmStat, type KsmStat } from './stats.js';

export type MadviseAdvice = 'mergeable' | 'unmergeable' | 'dontneed' | 'collapse';

const ADVICE: Record<MadviseAdvice, Advice> = {
  mergeable: MADV_MERGEABLE,
  unmergeable: MADV_UNMERGEABLE,
  dontneed: MADV_DONTNEED,
  collapse: MADV_COLLAPSE,
};

/** What the space needs from its Ksm: the engine, and a way to hand over a forked child. */
export interface SpaceHost {
  readonly backend: KsmBackend;
  adoptFork(parent: AddressSpace, childId: number, name: string): AddressSpace;
  forget(space: AddressSpace): void;
  /** close() was called on the host: its engine is gone. */
  readonly closed: boolean;
  /** An operation put the first slot on an empty list (the kernel's __ksm_enter wakes ksmd then). */
  firstSlotRegistered(): void;
}

export class AddressSpace {
  #closed = false;
  readonly #domain: string;
  /** Pages unmapped so far (munmap); writes and madvise there fail with EFAULT. */
  /** 1 per page munmapped; null while none is (most spaces: no array to keep, grow or search). */
  #unmapped: Uint8Array | null;
  /** How many: while 0, range checks need not look for holes. */
  #pages: number;

  /** Size in pages of 4096 bytes. */
  get pages(): number { return this.#pages; }

  /** @internal Spaces are made by Ksm.createSpace and AddressSpace.fork. */
  constructor(
    private readonly host: SpaceHost,
    /** The engine's id for this space (as a pid would be). */
    readonly id: number,
    readonly name: string,
    pages: number,
    domain: string,
    unmapped?: Uint8Array,
  ) {
    this.#pages = pages;
    this.#domain = domain;
    this.#unmapped = unmapped ? unmapped.slice() : null;
  }

  /**
   * Its sharing domain: its pages share KSM frames only with spaces of the same domain. An exited
   * space belongs to no domain any more (EINVAL).
   */
  get domain(): string {
    this.#checkOpen('domain');
    return this.#domain;
  }

  /** @internal The domain, open or not (for the host's bookkeeping). */
  domainName(): string { return this.#domain; }

  /** True once close() (exit) was called, here or on its Ksm. */
  get closed(): boolean { return this.#closed || this.host.closed; }

  /** A copy of one page. Absent pages read as zeros. */
  read(page: number): Uint8Array {
    this.#checkPage(page, 'read');
    const out = new Uint8Array(PAGE_SIZE);
    this.host.backend.read(this.id, page * PAGE_SIZE, out);
    return out;
  }

  /** Copies `length` bytes from byte `address` of the space into a new array (may span pages). */
  readBytes(address: number, length: number): Uint8Array {
    this.#checkOpen('readBytes');
    if (!Number.isInteger(length) || length < 0) throw new KsmError('EINVAL', `readBytes on space "${this.name}": length ${length} must be a non-negative integer`);
    this.#checkBytes(address, length, 'read');
    const out = new Uint8Array(length);
    this.host.backend.read(this.id, address, out);
    return out;
  }

  /**
   * A zero-copy view of one page, valid until the next call into this Ksm (memory may move).
   * Never write through it: a merged page is shared by every space that maps it.
   */
  view(page: number): Uint8Array {
    this.#checkPage(page, 'view');
    return this.host.backend.pageView(this.id, page);
  }

  /**
   * Writes `data` at byte `offset` of `page` (it may run on into the following pages). A KSM page
   * is copied first (copy-on-write), never written in place. ENOMEM if the copies do not fit under
   * the memory cap; then nothing is written.
   */
  write(page: number, data: Uint8Array, offset = 0): void {
    if (!(data instanceof Uint8Array)) throw new KsmError('EINVAL', `write to space "${this.name}": data must be a Uint8Array`);
    if (!Number.isInteger(offset) || offset < 0) throw new KsmError('EINVAL', `write to space "${this.name}": offset ${offset} must be a non-negative integer`);
    this.#checkPage(page, 'write');
    const address = page * PAGE_SIZE + offset;
    this.#checkBytes(address, data.length, 'write');
    if (data.length === 0) return;
    const status = this.host.backend.write(this.id, address, data);
    if (status === ENOMEM) throw this.#noMemory(`write of ${data.length} bytes at page ${page}`);
  }

  /**
   * The fingerprint engine only (`Ksm.create({ engine: 'fingerprints' })`): pages from `page` get
   * the contents whose fingerprint records are given (FP_RECORD_SIZE bytes each, as
   * src/fingerprint/hash.ts makes them), as writes of those whole pages would. For frozen inputs
   * fingerprinted elsewhere: a Web Worker, a fingerprint file. ENOMEM if they do not fit under the
   * memory cap; then nothing is written.
   */
  writeFingerprints(page: number, records: Uint8Array): void {
    const what = `writeFingerprints to space "${this.name}"`;
    const backend = this.host.backend;
    if (backend.engine !== 'fingerprints' || !backend.writeFingerprints) throw new KsmError('EINVAL', `${what}: only a Ksm of engine 'fingerprints' takes fingerprint records (this one is '${backend.engine}')`);
    if (!(records instanceof Uint8Array) || records.length % FP_RECORD_SIZE !== 0) throw new KsmError('EINVAL', `${what}: records must be a Uint8Array of whole ${FP_RECORD_SIZE}-byte records`);
    const count = records.length / FP_RECORD_SIZE;
    this.#checkRange(page, count, 'writeFingerprints');
    if (count === 0) return;
    if (backend.writeFingerprints(this.id, page, records) === ENOMEM) throw this.#noMemory(`writeFingerprints of ${count} pages at page ${page}`);
  }

  /** madvise(MADV_MERGEABLE | MADV_UNMERGEABLE | MADV_DONTNEED | MADV_COLLAPSE) on pages [first, first + count). */
  madvise(first: number, count: number, advice: MadviseAdvice): void {
    const code = Object.hasOwn(ADVICE, advice) ? ADVICE[advice] : undefined;
    if (code === undefined) throw new KsmError('EINVAL', `madvise on space "${this.name}": unknown advice "${String(advice)}" (mergeable, unmergeable, dontneed, collapse)`);
    this.#checkRange(first, count, `madvise(${advice})`);
    if (count === 0) return;
    const result = this.host.backend.madvise(this.id, first, count, code);
    if (result === ENOMEM) throw this.#noMemory(`madvise(${advice}) of pages ${first}..${first + count - 1}`);
    if (result & REGISTERED_FIRST) this.host.firstSlotRegistered();
  }

  /** madvise(MADV_MERGEABLE) on a page range (the whole space by default). */
  mergeable(first = 0, count = this.pages - first): void { this.madvise(first, count, 'mergeable'); }
  /** madvise(MADV_UNMERGEABLE): KSM pages of the range get private copies at once. */
  unmergeable(first = 0, count = this.pages - first): void { this.madvise(first, count, 'unmergeable'); }
  /** madvise(MADV_DONTNEED): the pages are dropped and read as zeros. */
  dontneed(first: number, count: number): void { this.madvise(first, count, 'dontneed'); }
  /**
   * madvise(MADV_COLLAPSE): each aligned 512-page range of the range (the whole space by default)
   * whose pages are all present and private becomes one transparent huge page, as the kernel backs
   * QEMU's guest RAM. ksmd visits its subpages as any page; a merge attempt on one splits it, and
   * the split maps its zero-filled subpages to the shared zero page (`live().splitZeroPages`).
   * Ranges with an absent, shared or KSM page are left as they are (the kernel would copy them in).
   */
  collapse(first = 0, count = this.pages - first): void { this.madvise(first, count, 'collapse'); }

  /** munmap: the pages are dropped and no longer mapped; their rmap items go when ksmd passes. */
  unmap(first: number, count: number): void {
    this.#checkRange(first, count, 'unmap', { holesAllowed: true });
    if (count === 0) return;
    this.host.backend.unmap(this.id, first, count);
    this.#unmapped ??= new Uint8Array(this.#pages);
    this.#unmapped.fill(1, first, first + count);
  }

  /** prctl(PR_SET_MEMORY_MERGE): every mapped page mergeable (on), or all unmerged (off). */
  setMergeAny(on: boolean): void {
    this.#checkOpen('setMergeAny');
    if (typeof on !== 'boolean') throw new KsmError('EINVAL', `setMergeAny on space "${this.name}": expected true or false, got ${JSON.stringify(on)}`);
    const result = this.host.backend.setMergeAny(this.id, on);
    if (result === ENOMEM) throw this.#noMemory('turning merge-any off');
    if (result & REGISTERED_FIRST) this.host.firstSlotRegistered();
  }

  /** prctl(PR_GET_MEMORY_MERGE). */
  get mergeAny(): boolean {
    return this.host.backend.spaceCounters(this.id).mergeAny;
  }

  /**
   * The space grows to `pages` pages in all: the new ones at its end, mapped and absent (read as
   * zeros), and mergeable if setMergeAny(true) is on, as mremap growing a mapping in place. ENOMEM
   * (nothing changed) when the engine's memory cap cannot take their page tables.
   */
  grow(pages: number): void {
    this.#checkOpen('grow');
    if (!Number.isInteger(pages) || pages <= this.#pages || pages > MAX_SPACE_PAGES) {
      throw new KsmError('EINVAL', `grow on space "${this.name}": pages must be an integer above its ${this.#pages} and at most ${MAX_SPACE_PAGES}, got ${pages}`);
    }
    if (this.host.backend.growSpace(this.id, pages) === ENOMEM) throw this.#noMemory(`grow to ${pages} pages`);
    if (this.#unmapped) {
      const unmapped = new Uint8Array(pages);
      unmapped.set(this.#unmapped);
      this.#unmapped = unmapped;
    }
    this.#pages = pages;
  }

  /** fork(): a copy-on-write child. Its KSM pages join their stable node on ksmd's first visit. */
  fork(name = `${this.name}-child`): AddressSpace {
    this.#checkOpen('fork');
    const childId = this.host.backend.fork(this.id);
    if (childId === ENOMEM) throw this.#noMemory('fork');
    // (A child gets a slot only if its parent has one, so a fork never finds the list empty.)
    return this.host.adoptFork(this, childId, name);
  }

  /** exit(): the mappings go now; ksmd frees the rmap items on its next pass (counters lag until then). */
  close(): void {
    if (this.#closed) return;
    if (this.host.closed) { this.#closed = true; return; } // gone with its Ksm already
    this.host.backend.exit(this.id);
    this.#closed = true;
    this.host.forget(this);
  }

  /** /proc/PID/ksm_stat. Still readable after close(): the kernel keeps the items until ksmd passes. */
  ksmStat(): KsmStat {
    return kernelKsmStat(this.host.backend.spaceCounters(this.id));
  }

  /** What one page maps right now, and its rmap item's state (for maps and the demo). */
  pageInfo(page: number): PageInfo {
    this.#checkIndex(page, 'pageInfo');
    return this.host.backend.pageInfo(this.id, page);
  }

  /** @internal The unmapped-page bitmap, for a forked child. */
  unmappedPages(): Uint8Array | undefined { return this.#unmapped ?? undefined; }

  #noMemory(what: string): KsmError {
    return new KsmError('ENOMEM', `${what} in space "${this.name}": the engine's memory cap is reached (nothing was changed)`);
  }

  #checkOpen(op: string): void {
    if (this.host.closed) throw new KsmError('EINVAL', `${op} on space "${this.name}": its Ksm was closed`);
    if (this.#closed) throw new KsmError('EINVAL', `${op} on space "${this.name}": the space has exited (close() was called)`);
  }

  #checkIndex(page: number, op: string): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.pages) {
      throw new KsmError('EINVAL', `${op} on space "${this.name}": page ${page} is outside its ${this.pages} pages`);
    }
  }

  #checkPage(page: number, op: string): void {
    this.#checkOpen(op);
    this.#checkIndex(page, op);
    if (this.#unmapped?.[page]) throw new KsmError('EFAULT', `${op} on space "${this.name}": page ${page} is not mapped (unmap was called on it)`);
  }

  #checkRange(first: number, count: number, op: string, { holesAllowed = false } = {}): void {
    this.#checkOpen(op);
    if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > this.pages) {
      throw new KsmError('EINVAL', `${op} on space "${this.name}": pages ${first}..${first + count - 1} are outside its ${this.pages} pages`);
    }
    if (holesAllowed || !this.#unmapped) return; // munmap of a range with holes unmaps what is there
    const hole = this.#unmapped.subarray(first, first + count).indexOf(1);
    if (hole >= 0) throw new KsmError('EFAULT', `${op} on space "${this.name}": page ${first + hole} is not mapped`);
  }

  #checkBytes(address: number, length: number, op: string): void {
    const size = this.pages * PAGE_SIZE;
    if (!Number.isInteger(address) || address < 0 || address + length > size) {
      throw new KsmError('EINVAL', `${op} on space "${this.name}": bytes ${address}..${address + length - 1} run past its ${size} bytes`);
    }
    if (!this.#unmapped) return;
    const first = Math.floor(address / PAGE_SIZE);
    const last = length > 0 ? Math.floor((address + length - 1) / PAGE_SIZE) : first;
    const hole = this.#unmapped.subarray(first, last + 1).indexOf(1);
    if (hole >= 0) throw new KsmError('EFAULT', `${op} on space "${this.name}": page ${first + hole} is not mapped`);
  }
}
