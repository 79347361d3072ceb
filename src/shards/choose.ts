/**
 * How many content shards an estimate runs in: --threads N, by default one per core (inputs under
 * 1 GiB a shard: fewer; inputs that many engines cannot hold: more). What feeds
 * on the whole run's result couples the shards, so it runs as one shard: the scan-time advisor
 * (it sets pages_to_scan from the measured CPU time of each full scan) and a policy that reacts to
 * the memory saved (ksmtuned); so do inputs whose pages are tied across contents (partition.ts).
 * An explicit --threads N > 1 with any of them is refused; the default then falls to 1.
 */
import { availableParallelism } from 'node:os';
import { CliError } from '../cli/errors.js';
import type { EstimateKnobs } from '../estimate/knobs.js';
import type { ImageSource } from '../estimate/source.js';
import { unsplittable } from './partition.js';
import type { EngineName } from '../backend.js';
import { bytes } from '../cli/format.js';
import { engineCapacity } from '../cli/memory.js';
import { PAGE_SIZE, inputPages } from '../estimate/source.js';

/** Most shards one run may have. */
export const MAX_THREADS = 256;

/**
 * Pages a shard should have at least when the number is not given (1 GiB). What threads share
 * out is reading image files, fingerprinting and scanning; what they add is starting workers and
 * giving them their pages. On a 2-core machine, whole `estimate` runs (best of 2-3) broke even
 * about there: cloned guests at 1 GiB 0.45 s one thread, 0.44 s two (fingerprints), 1.23 against
 * 1.30 s (pages); at 2 GiB two threads won, 0.65 against 0.78 s and 2.07 against 2.28 s; image
 * files, 1 GiB 0.49 against 0.44 s, 2 GiB 0.73-0.77 against 0.68 s. With 64 MiB a shard (until
 * this was measured) two threads made every run from 128 MiB to 1 GiB 20-35 % slower.
 */
export const MIN_DEFAULT_SHARD_PAGES = 262144;

/** One shard per core, but none smaller than MIN_DEFAULT_SHARD_PAGES. */
export const defaultThreads = (pages: number): number =>
  Math.max(1, Math.min(MAX_THREADS, availableParallelism(), Math.floor(pages / MIN_DEFAULT_SHARD_PAGES)));

/**
 * Share of its engine a shard is planned to fill when the count is not given. Pages are dealt by
 * whole contents, balanced as they come (balance.ts), so a shard gets about its share of the
 * pages, but a content cannot split: every zero page of a host lands in one shard, and an idle
 * host's zero pages can be more than a shard's share. The rest is room for that.
 */
export const SHARD_FILL = 0.75;

/** The fewest shards of `engine` that hold `pages` pages, each filled to `fill` of its engine at most. */
export const shardsToHold = (pages: number, engine: EngineName, fill = 1): number =>
  Math.max(1, Math.ceil(pages / Math.floor(engineCapacity(engine) * fill)));

/**
 * The default: a shard per core (defaultThreads), or more where that many would not hold the inputs
 * (a 128 GiB host needs 3 fingerprint engines); the shards beyond the cores share them.
 */
export function defaultShards(pages: number, engine: EngineName): number {
  const toHold = shardsToHold(pages, engine, SHARD_FILL);
  if (toHold > MAX_THREADS) {
    throw new CliError('input', `${bytes(pages * PAGE_SIZE)} of pages need ${toHold} shards of the ${engineLabel(engine)}, more than ${MAX_THREADS}; estimate fewer inputs at a time, or split the run over machines (ksm-wasm fingerprint, estimate --from --shard)`);
  }
  return Math.max(defaultThreads(pages), toHold);
}

/** How messages name an engine. */
export const engineLabel = (engine: EngineName): string => (engine === 'fingerprints' ? 'fingerprint engine' : 'page engine');

/** What keeps a run to one shard, said for an error line; undefined if nothing does. */
export function oneShardReason(knobs: EstimateKnobs, policy: string | undefined, sources: readonly ImageSource[]): string | undefined {
  if (knobs.advisorMode === 'scan-time') return '--advisor scan-time sets pages_to_scan from the whole run\'s CPU time of each full scan, so it runs as one shard';
  if (policy !== undefined) return `--policy ${policy} reacts to the memory the whole run saves, so it runs as one shard`;
  const tied = unsplittable(sources);
  return tied ? `${tied}, so the inputs run as one shard` : undefined;
}

/**
 * The shards to run: `threads` (undefined: not given, defaultShards), or 1 where the run cannot be
 * split. A count too small to hold the inputs even in shards filled to the brim is refused.
 */
export function shardCount(threads: number | undefined, knobs: EstimateKnobs, policy: string | undefined, sources: readonly ImageSource[], engine: EngineName): number {
  const reason = oneShardReason(knobs, policy, sources);
  const pages = inputPages(sources);
  if (reason === undefined) {
    if (threads === undefined) return defaultShards(pages, engine);
    const least = shardsToHold(pages, engine);
    if (threads < least) {
      throw new CliError('input', `--threads ${threads}: ${bytes(pages * PAGE_SIZE)} of pages need at least ${least} shards (one ${engineLabel(engine)} holds ${engineCapacity(engine)} pages); give --threads ${shardsToHold(pages, engine, SHARD_FILL)} or leave it out${engine === 'fingerprints' ? '' : ', or --mode fingerprints (which holds no page bytes)'}`);
    }
    return threads;
  }
  if (threads !== undefined && threads > 1) throw new CliError('input', `--threads ${threads}: ${reason} (leave --threads out or give --threads 1)`);
  return 1;
}
