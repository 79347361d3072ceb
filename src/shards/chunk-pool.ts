/**
 * A few chunk buffers in shared memory, reused while the inputs are dealt to the shards: the reader
 * copies a chunk in once (one bulk copy), every shard reads its own pages of it straight into its
 * engine, and the last shard to finish releases it. Allocating shared memory afresh for every chunk
 * costs more than the copy itself; the pool also bounds what is in flight (the reader waits, with
 * Atomics.wait, for a free buffer).
 *
 * control[i] counts the shards still to read buffer i; control[SLOTS] is bumped on every release
 * (what a waiting reader sleeps on).
 */
import { CHUNK_BYTES } from '../estimate/source.js';

const SLOTS = 8;
/** A reader that has had no buffer back for this long gives up: a shard stopped taking pages. */
const STALL_MS = 120_000;

/** A buffer of the pool, as handed to the shards (plain data: it crosses to worker threads). */
export interface PooledChunk { slot: number; control: Int32Array; data: Uint8Array }

export class ChunkPool {
  readonly #control = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + 1)));
  readonly #data = Array.from({ length: SLOTS }, () => new Uint8Array(new SharedArrayBuffer(CHUNK_BYTES)));

  /** A free buffer holding a copy of `chunk`, to be read by `readers` shards. */
  fill(chunk: Uint8Array, readers: number): PooledChunk {
    const slot = this.#freeSlot();
    this.#data[slot].set(chunk);
    Atomics.store(this.#control, slot, readers);
    return { slot, control: this.#control, data: this.#data[slot].subarray(0, chunk.length) };
  }

  #freeSlot(): number {
    const started = performance.now();
    for (;;) {
      const generation = Atomics.load(this.#control, SLOTS);
      for (let slot = 0; slot < SLOTS; slot++) if (Atomics.load(this.#control, slot) === 0) return slot;
      Atomics.wait(this.#control, SLOTS, generation, 1000);
      if (performance.now() - started > STALL_MS) throw new Error(`the shards took no pages for ${STALL_MS / 1000} s (a shard's worker stopped)`);
    }
  }
}

/** A shard is done with its pages of a pooled chunk. */
export function releaseChunk(chunk: Pick<PooledChunk, 'slot' | 'control'>): void {
  Atomics.sub(chunk.control, chunk.slot, 1);
  Atomics.add(chunk.control, SLOTS, 1);
  Atomics.notify(chunk.control, SLOTS);
}
