/**
 * Fingerprinting on every core while the inputs are read, in their order: a ring of slots in shared
 * memory. The reader fills the next slot with a chunk's pages (bytes, or a generated source's plans)
 * or, for a raw image file, just says where they are in the file, and hands a job to the hashing
 * thread with the fewest jobs not done; the thread reads the file's bytes into the slot itself (so
 * the reading is shared out too: file descriptors are the process's), writes the chunk's records
 * into the slot and marks it done. Before the reader reuses a slot, the records in it are
 * handed on, so records come out in the order the pages were read, whichever thread made them.
 * Sources already fingerprinted (readRecords) go through a slot too, done at once, to keep that order.
 *
 * control[i] is slot i's state (FREE, PENDING, DONE, FAILED); a reader waits on it with Atomics.wait.
 */
import { CHUNK_BYTES, PAGE_SIZE, type FileRun, type ImageSource } from '../estimate/source.js';
import { openInput, readFully } from '../estimate/raw.js';
import { closeSync } from 'node:fs';
import { FP_RECORD_SIZE, PLAN_WORDS, sharedHasher, type PageHasher } from '../fingerprint/hash.js';

const SLOTS = 8;
const CHUNK_PAGES = CHUNK_BYTES / PAGE_SIZE;
const FREE = 0, PENDING = 1, DONE = 2;
/** A slot's state when its hashing threw (exported for tests that play a failing thread). */
export const FAILED = 3;
/** A reader that has had no slot done for this long gives up: a hashing thread stopped. */
const STALL_MS = 120_000;

/** A slot to fingerprint (plain data: it crosses to worker threads; its arrays are shared). */
export interface HashJob {
  slot: number;
  control: Int32Array;
  input: 'bytes' | 'plans' | 'file';
  pages: number;
  data: Uint8Array;
  plans: Uint32Array;
  records: Uint8Array;
  /** input 'file': the run to read into `data` first, from the descriptor the reader opened. */
  file?: FileRun & { fd: number };
}

/** Runs a job: on a worker thread (posted) or here. Completion is seen in the slot's state. */
export type HashJobRunner = (job: HashJob) => void;

/** Fingerprints a job's pages into its slot's records and marks the slot (on the hashing thread). */
export function runHashJob(job: HashJob, hasher: PageHasher = sharedHasher()): void {
  let state = FAILED;
  try {
    if (job.input === 'plans') hasher.fingerprintPlanned(job.plans.subarray(0, job.pages * PLAN_WORDS), job.records);
    else {
      if (job.file) readRun(job.file, job.data.subarray(0, job.pages * PAGE_SIZE));
      hasher.fingerprintInto(job.data.subarray(0, job.pages * PAGE_SIZE), job.records);
    }
    state = DONE;
  } finally {
    Atomics.store(job.control, job.slot, state);
    Atomics.notify(job.control, job.slot);
  }
}

/** A file run's bytes into `into` (whole pages: the file's tail zero-padded). */
function readRun(run: FileRun & { fd: number }, into: Uint8Array): void {
  const got = readFully(run.fd, into, run.bytes, run.position, run.path);
  into.fill(0, got);
}

/** Records of consecutive pages of one space, in read order. */
export type RecordsSink = (records: Uint8Array, space: number, firstPage: number) => void;

interface Held { space: number; first: number; pages: number }

export class HashRing {
  readonly #control = new Int32Array(new SharedArrayBuffer(4 * SLOTS));
  readonly #data: Uint8Array[] = [];
  readonly #plans = Array.from({ length: SLOTS }, () => new Uint32Array(new SharedArrayBuffer(CHUNK_PAGES * PLAN_WORDS * 4)));
  readonly #records = Array.from({ length: SLOTS }, () => new Uint8Array(new SharedArrayBuffer(CHUNK_PAGES * FP_RECORD_SIZE)));
  readonly #held: Array<Held | undefined> = new Array(SLOTS).fill(undefined);
  /** Which runner each slot's job went to, and the job. */
  readonly #runnerOf = new Array<number>(SLOTS).fill(0);
  readonly #jobOf = new Array<HashJob | undefined>(SLOTS).fill(undefined);
  #next = 0;

  constructor(private readonly runners: readonly HashJobRunner[], private readonly sink: RecordsSink) {
    if (runners.length === 0) throw new RangeError('a hash ring needs at least one hashing thread');
  }

  /** Pages as bytes (at most CHUNK_BYTES), pages first.. of `space`. */
  bytes(chunk: Uint8Array, space: number, first: number): void {
    const slot = this.#take(space, first, chunk.length / PAGE_SIZE);
    this.#bytesOf(slot).set(chunk);
    this.#submit(slot, 'bytes');
  }

  /** Pages of a raw image file, read by the hashing thread: `run` (at most CHUNK_BYTES) from descriptor `fd`, pages first.. of `space`. */
  file(run: FileRun, fd: number, space: number, first: number): void {
    const slot = this.#take(space, first, Math.ceil(run.bytes / PAGE_SIZE));
    this.#bytesOf(slot); // the hashing thread reads the run into it
    this.#submit(slot, 'file', { ...run, fd });
  }

  /** Generated pages as plans (at most CHUNK_PAGES of them). */
  plans(plans: Uint32Array, space: number, first: number): void {
    const slot = this.#take(space, first, plans.length / PLAN_WORDS);
    this.#plans[slot].set(plans);
    this.#submit(slot, 'plans');
  }

  /** Pages already fingerprinted (at most CHUNK_PAGES records). */
  records(records: Uint8Array, space: number, first: number): void {
    const slot = this.#take(space, first, records.length / FP_RECORD_SIZE);
    this.#records[slot].set(records);
    Atomics.store(this.#control, slot, DONE);
  }

  /** Waits for every slot still out, handing on their records. */
  finish(): void {
    for (let i = 0; i < SLOTS; i++) this.#drain((this.#next + i) % SLOTS);
  }

  /** A job in the ring (not handed on yet: one that failed is read again by the reader) is on descriptor `fd`. */
  reads(fd: number): boolean {
    for (let slot = 0; slot < SLOTS; slot++) if (this.#held[slot] && this.#jobOf[slot]?.file?.fd === fd) return true;
    return false;
  }

  /** The next slot, free: the records it held handed on first (the oldest in the ring). */
  #take(space: number, first: number, pages: number): number {
    if (pages > CHUNK_PAGES) throw new RangeError(`${pages} pages is more than a slot's ${CHUNK_PAGES}`);
    const slot = this.#next;
    this.#drain(slot);
    this.#next = (slot + 1) % SLOTS;
    this.#held[slot] = { space, first, pages };
    this.#jobOf[slot] = undefined;
    return slot;
  }

  /** Slot `slot`'s buffer of page bytes, made the first time a chunk of bytes needs it (plans and records never do). */
  #bytesOf(slot: number): Uint8Array {
    return (this.#data[slot] ??= new Uint8Array(new SharedArrayBuffer(CHUNK_BYTES)));
  }

  #submit(slot: number, input: HashJob['input'], file?: HashJob['file']): void {
    Atomics.store(this.#control, slot, PENDING);
    const job: HashJob = { slot, control: this.#control, input, pages: this.#held[slot]!.pages, data: this.#data[slot] ?? new Uint8Array(0), plans: this.#plans[slot], records: this.#records[slot], file };
    const runner = this.#leastBusy();
    this.#runnerOf[slot] = runner;
    this.#jobOf[slot] = job;
    this.runners[runner](job);
  }

  /** The runner with the fewest jobs not done yet (the first of them): a slower thread gets fewer. */
  #leastBusy(): number {
    const pending = new Array<number>(this.runners.length).fill(0);
    for (let slot = 0; slot < SLOTS; slot++) if (Atomics.load(this.#control, slot) === PENDING) pending[this.#runnerOf[slot]]++;
    return pending.indexOf(Math.min(...pending));
  }

  #drain(slot: number): void {
    const held = this.#held[slot];
    if (!held) return;
    this.#wait(slot);
    this.#held[slot] = undefined;
    Atomics.store(this.#control, slot, FREE);
    this.sink(this.#records[slot].subarray(0, held.pages * FP_RECORD_SIZE), held.space, held.first);
  }

  #wait(slot: number): void {
    const started = performance.now();
    for (;;) {
      const state = Atomics.load(this.#control, slot);
      if (state === DONE) return;
      // A file's chunk that failed is read and fingerprinted again here, so that what went wrong (a
      // file cut short, a read error) is told as the reader would tell it.
      if (state === FAILED && this.#jobOf[slot]?.file) return runHashJob(this.#jobOf[slot]!);
      if (state === FAILED) throw new Error('a hashing thread failed to fingerprint a chunk of pages');
      Atomics.wait(this.#control, slot, state, 1000);
      if (performance.now() - started > STALL_MS) throw new Error(`no chunk fingerprinted for ${STALL_MS / 1000} s (a hashing thread stopped)`);
    }
  }
}

/**
 * Every source read once, in order, and fingerprinted on `runners` (the least busy first): `sink`
 * gets each chunk's records in read order (valid only during the call). Sources already fingerprinted
 * (readRecords) pass straight through; generated ones (readPlans) hand over plans, not bytes.
 */
export function fingerprintSources(sources: readonly ImageSource[], runners: readonly HashJobRunner[], sink: RecordsSink): void {
  const ring = new HashRing(runners, sink);
  const files = new OpenFiles(ring);
  try {
    readAll(sources, ring, files);
  } finally {
    // After a failure jobs may still be out: one that reads a closed (or reused) descriptor reads
    // at an offset of its own into a slot nobody reads again, so closing now harms nothing.
    files.close();
  }
}

/**
 * The reader's descriptors of the image files being read. A file is closed, when another is opened,
 * once no job in the ring is on it: the ring holds at most SLOTS jobs, so at most SLOTS + 1 files
 * are open however many inputs there are, and the reading never waits for it.
 */
class OpenFiles {
  readonly #fds = new Map<string, number>();

  constructor(private readonly ring: HashRing) {}

  open(path: string): number {
    const open = this.#fds.get(path);
    if (open !== undefined) return open;
    for (const [other, fd] of this.#fds) {
      if (this.ring.reads(fd)) continue;
      closeSync(fd);
      this.#fds.delete(other);
    }
    const fd = openInput(path);
    this.#fds.set(path, fd);
    return fd;
  }

  close(): void {
    for (const fd of this.#fds.values()) closeSync(fd);
    this.#fds.clear();
  }
}

function readAll(sources: readonly ImageSource[], ring: HashRing, files: OpenFiles): void {
  sources.forEach((source, space) => {
    if (source.readRecords) {
      source.readRecords((records, page) => inSlots(records.length / FP_RECORD_SIZE, (from, to) => ring.records(records.subarray(from * FP_RECORD_SIZE, to * FP_RECORD_SIZE), space, page + from)));
    } else if (source.readFileRuns) {
      source.readFileRuns((run, page) => ring.file(run, files.open(run.path), space, page));
    } else if (source.readPlans) {
      source.readPlans((plans, page) => inSlots(plans.length / PLAN_WORDS, (from, to) => ring.plans(plans.subarray(from * PLAN_WORDS, to * PLAN_WORDS), space, page + from)));
    } else {
      let next = 0;
      source.read((chunk, page = next) => {
        inSlots(chunk.length / PAGE_SIZE, (from, to) => ring.bytes(chunk.subarray(from * PAGE_SIZE, to * PAGE_SIZE), space, page + from));
        next = page + chunk.length / PAGE_SIZE;
      });
    }
  });
  ring.finish();
}

/** Pages [0, pages) in runs that fit a ring slot. */
function inSlots(pages: number, run: (from: number, to: number) => void): void {
  for (let from = 0; from < pages; from += CHUNK_PAGES) run(from, Math.min(pages, from + CHUNK_PAGES));
}

/** Runs jobs here, in the reader's thread (no worker threads). */
export const hashHere: HashJobRunner = (job) => runHashJob(job);
