/**
 * How many content shards an estimate runs in: --threads N, by default one per core (inputs under
 * 64 MiB a shard: fewer). What feeds
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

/** Most shards one run may have. */
export const MAX_THREADS = 256;

/**
 * Pages a shard should have at least when the number is not given: starting a worker and
 * compiling its engine takes a few hundred ms, about what one thread spends scanning 64 MiB
 * to the settled state, so smaller inputs are faster as one shard.
 */
export const MIN_DEFAULT_SHARD_PAGES = 16384;

/** One shard per core, but none smaller than MIN_DEFAULT_SHARD_PAGES. */
export const defaultThreads = (pages: number): number =>
  Math.max(1, Math.min(MAX_THREADS, availableParallelism(), Math.floor(pages / MIN_DEFAULT_SHARD_PAGES)));

/** What keeps a run to one shard, said for an error line; undefined if nothing does. */
export function oneShardReason(knobs: EstimateKnobs, policy: string | undefined, sources: readonly ImageSource[]): string | undefined {
  if (knobs.advisorMode === 'scan-time') return '--advisor scan-time sets pages_to_scan from the whole run\'s CPU time of each full scan, so it runs as one shard';
  if (policy !== undefined) return `--policy ${policy} reacts to the memory the whole run saves, so it runs as one shard`;
  const tied = unsplittable(sources);
  return tied ? `${tied}, so the inputs run as one shard` : undefined;
}

/** The shards to run: `threads` (undefined: not given, one per core), or 1 where the run cannot be split. */
export function shardCount(threads: number | undefined, knobs: EstimateKnobs, policy: string | undefined, sources: readonly ImageSource[]): number {
  const reason = oneShardReason(knobs, policy, sources);
  if (reason === undefined) return threads ?? defaultThreads(sources.reduce((n, s) => n + s.pages, 0));
  if (threads !== undefined && threads > 1) throw new CliError('input', `--threads ${threads}: ${reason} (leave --threads out or give --threads 1)`);
  return 1;
}
