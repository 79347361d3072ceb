/**
 * A full garbage collection of a shard worker's heap, between loading and scanning. Loading leaves
 * the worker's heap full of dead message objects (page batches, records, hash jobs), and a fresh
 * isolate's old generation is small: left alone, the collection they call for came in the first
 * full scan, often as a 10-15 ms mark-compact against about 20 ms of scanning on the 325 MiB fleet
 * (node --trace-gc). Collected here, that time is startup's.
 *
 * A collection leaves work behind on the thread's own event loop (V8's tasks after it): one timer
 * turn lets it run, or the coordinator's first request waited behind it (1-6 ms, against 0.1-0.3 ms
 * for a worker that had that turn).
 *
 * Node exposes gc() only under --expose-gc, a V8 flag, and V8's flags are the process's: a context
 * made while it is set gets gc(). The coordinator sets it while the shards load (exposingGc), and
 * only the coordinator: threads toggling it each for itself raced (one turned it off while another
 * was taking its gc). A worker that finds no gc to take goes on without collecting.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = () => void;

/** This thread's gc(): undefined until taken, null if there was none to take. */
let gc: Gc | null | undefined;

/** In a shard worker: collects (if gc can be had), then lets the collection's own tasks run. */
export async function collectGarbage(): Promise<void> {
  if (gc === undefined) gc = (globalThis as { gc?: Gc }).gc ?? (runInNewContext('typeof gc === "function" ? gc : null') as Gc | null);
  gc?.();
  await new Promise((resolve) => setTimeout(resolve, 1));
}

/**
 * In the coordinator: V8's --expose-gc set while `during` runs (the shards' workers take their gc
 * then), as it was after. A process started with --expose-gc keeps it.
 */
export async function exposingGc<T>(during: () => Promise<T>): Promise<T> {
  const own = typeof (globalThis as { gc?: unknown }).gc === 'function';
  if (!own) setFlagsFromString('--expose-gc');
  try {
    return await during();
  } finally {
    if (!own) setFlagsFromString('--no-expose-gc');
  }
}
