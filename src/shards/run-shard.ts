/**
 * The run step of one map/reduce job: shard I of K of fingerprint files, exactly `maxScans` full
 * scans, the shard's counters after each (all the pages as one shard may stop once settled). The
 * fingerprint engine takes the files' records as they are; the page engine (--mode pages) takes
 * stand-in pages made from them (from-records.ts).
 */
import { CliError } from '../cli/errors.js';
import { engineCapacity, engineMemoryFor, fingerprintMemoryFor } from '../cli/memory.js';
import { bytes } from '../cli/format.js';
import { checkMachineMemory } from '../cli/machine-memory.js';
import type { EngineName } from '../backend.js';
import { PAGE_SIZE, inputPages } from '../estimate/source.js';
import { SHARD_FILL, engineLabel, shardsToHold } from './choose.js';
import type { EstimateKnobs } from '../estimate/knobs.js';
import type { EstimateSettings } from '../estimate/run.js';
import type { ClockProfile } from '../estimate/profile.js';
import type { FingerprintFile } from '../fingerprint/file.js';
import { ShardEngine, type ShardScan } from './engine.js';
import { shardSources, type ShardId } from './from-records.js';
import { unsplittable } from './partition.js';
import { hasConverged } from '../estimate/convergence.js';
import { kernelStats } from '../stats.js';

export interface ShardRunSettings {
  knobs: EstimateKnobs;
  maxScans: number;
  profile: ClockProfile;
  /** The shard engine's memory cap (default: what its pages need). */
  maxMemory?: number;
  /** Which engine runs the shard: the fingerprint engine takes the records, the page engine (default) stand-in pages. */
  engine?: EstimateSettings['engine'];
  /** Only for all the pages in one shard: stop once the merge state has been the same for this many full scans. */
  stableScans?: number;
}

export interface ShardRunResult {
  scans: ShardScan[];
  /** ms to make the engine (compilation). */
  startupMs: number;
  /** ms to load the shard's pages. */
  readMs: number;
}

export type ShardRunner = (files: readonly FingerprintFile[], shard: ShardId, settings: ShardRunSettings) => Promise<ShardRunResult>;

/** Shard `shard` of `files` on the settings' engine. */
export const runShard: ShardRunner = async (files, shard, settings) => {
  const sources = shardSources(files, shard);
  const tied = unsplittable(sources);
  if (tied && shard.count > 1) throw new CliError('input', `--shard ${shard.index}/${shard.count}: ${tied}, so these inputs run as one shard (--shard 0/1)`);
  const pages = inputPages(sources);
  checkShardFits(pages, shard, settings.engine ?? 'wasm');
  checkMachineMemory(pages, settings.engine ?? 'wasm');
  const spec = { knobs: settings.knobs, spaces: [], maxMemory: settings.maxMemory ?? (settings.engine === 'fingerprints' ? fingerprintMemoryFor : engineMemoryFor)(pages), profile: settings.profile, engine: settings.engine };
  const t0 = performance.now();
  const engine = await ShardEngine.create(spec);
  try {
    const t1 = performance.now();
    engine.loadSources(sources);
    engine.start();
    const t2 = performance.now();
    const scans: ShardScan[] = [];
    while (scans.length < settings.maxScans && !settled(scans, shard, settings.stableScans)) scans.push(engine.fullScan());
    return { scans, startupMs: t1 - t0, readMs: t2 - t1 };
  } finally {
    engine.close();
  }
};

/**
 * Refuses, before any page is loaded, a shard with more pages than its engine holds, and says how
 * many shards would do (each engine planned to SHARD_FILL, as estimate's default).
 */
export function checkShardFits(pages: number, shard: ShardId, engine: EngineName): void {
  const capacity = engineCapacity(engine);
  if (pages <= capacity) return;
  const whole = shard.count === 1; // then `pages` are all the inputs' pages
  const what = whole ? `the inputs hold ${pages} pages` : `--shard ${shard.index}/${shard.count} holds ${pages} pages`;
  const advice = whole
    ? `run them as shards: --shard I/${shardsToHold(pages, engine, SHARD_FILL)} for I from 0, then ksm-wasm merge`
    : 'split the run into more shards (a larger K for every job)';
  throw new CliError('input', `${what} (${bytes(pages * PAGE_SIZE)}), more than one ${engineLabel(engine)} holds (${capacity}): ${advice}`);
}

/** A run of all the pages (one shard) can stop where the estimate settles; a shard of several never does. */
function settled(scans: readonly ShardScan[], shard: ShardId, stableScans: number | undefined): boolean {
  return shard.count === 1 && stableScans !== undefined && hasConverged(scans.map((s) => kernelStats(s.counters)), stableScans);
}
