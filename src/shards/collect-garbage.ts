/**
 * A full garbage collection of this thread's heap, for a shard's worker between loading and
 * scanning. Loading leaves the worker's heap full of dead message objects (page batches, records,
 * hash jobs), and a fresh isolate's old generation is small: left alone, the collection they call
 * for came in the first full scan, often as a 10-15 ms mark-compact against about 20 ms of
 * scanning on the 325 MiB fleet (node --trace-gc). Collected here, that time is startup's.
 *
 * A collection leaves work behind on the thread's own event loop (V8's tasks after it): one timer
 * turn lets it run, or the coordinator's first request waited behind it (1-6 ms, against 0.1-0.3 ms
 * for a worker that had that turn).
 *
 * Node exposes gc() only under --expose-gc. V8's flags are the process's: set at run time, a
 * context made after it gets the function, and so would every worker and context the host makes
 * later. So the flag is set only for the moment of taking gc(), and left as it was: the host's own
 * threads never see a gc they did not ask for.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

function takeGc(): () => void {
  const own = (globalThis as { gc?: () => void }).gc;
  if (own) return own; // node --expose-gc: the flag is the host's, and stays
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as () => void;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

export async function collectGarbage(): Promise<void> {
  gc ??= takeGc();
  gc();
  await new Promise((resolve) => setTimeout(resolve, 1));
}
