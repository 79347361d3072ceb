/**
 * `estimate` over content shards: the pages are dealt by content to `shards` engines (each on its
 * own worker thread by default), which scan full scan by full scan; each full scan's counters are
 * summed over the shards as they come in (scan-shards.ts), the time figures computed from the sums
 * and convergence decided on them (reduce.ts). The counters are those of one engine over all the
 * pages; which dup of a chain takes a page may differ.
 *
 * Starting the workers and compiling their engines is startupMs; reading, fingerprinting and
 * dealing the pages is readMs; neither is in any scan's wallMs.
 */
import { memoryCap } from '../estimate/run.js';
import { modeOf } from '../estimate/mode.js';
import { loadProfile } from '../estimate/profile.js';
import type { EstimateRun, EstimateSettings } from '../estimate/run.js';
import { inputPages, type ImageSource } from '../estimate/source.js';
import type { ShardSpec } from './engine.js';
import type { ShardHost, ShardHostFactory } from './host.js';
import { dealPages } from './partition.js';
import { dealRecords } from './deal-records.js';
import { hashHere } from './hash-ring.js';
import { ScanReducer, shardedRun } from './reduce.js';
import { scanShards } from './scan-shards.js';
import { workerShard } from './worker-host.js';
import { exposingGc } from './collect-garbage.js';

export interface ShardedSettings extends EstimateSettings {
  shards: number;
  /** Where each shard runs (default: a worker thread each). */
  host?: ShardHostFactory;
}

export async function runShardedEstimate(sources: ImageSource[], settings: ShardedSettings): Promise<EstimateRun> {
  const profile = settings.profile ?? loadProfile(undefined);
  const pages = inputPages(sources);
  const spec: ShardSpec = {
    knobs: settings.knobs,
    spaces: sources.map((s, i) => ({ name: s.name, spacePages: s.spacePages ?? s.pages, domain: settings.domainOf?.(i) })),
    maxMemory: settings.maxMemory ?? memoryCap(sources, settings.engine),
    profile,
    engine: settings.engine,
  };
  const t0 = performance.now();
  const hosts = await startShards(settings.host ?? workerShard, spec, settings.shards);
  try {
    const t1 = performance.now();
    await exposingGc(() => loadShards(sources, settings, hosts)); // each worker collects its loading garbage before it starts
    const t2 = performance.now();
    const reducer = new ScanReducer(settings.knobs, profile);
    await scanShards(hosts, reducer, { ...settings, onScan: (record) => settings.onScan?.(record, { pages }) });
    const spaces = sources.map((s) => ({ name: s.name, pages: s.pages, live: s.live }));
    return shardedRun(reducer, { spaces, stableScans: settings.stableScans, readMs: t2 - t1, startupMs: t1 - t0, shards: settings.shards, mode: modeOf(settings.engine ?? 'wasm') });
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
}

/**
 * Deals the inputs to the shards and starts them: the fingerprint engine's as records, fingerprinted
 * on the shards' threads as they are read; the page engine's as pages. A shard's failure to load is
 * what start() rejects with, and it is the error reported even when the reader stopped first.
 */
async function loadShards(sources: ImageSource[], settings: ShardedSettings, hosts: ShardHost[]): Promise<void> {
  try {
    if (settings.engine === 'fingerprints') {
      const runners = hosts.flatMap((h) => (h.hash ? [h.hash] : []));
      dealRecords(sources, settings.shards, runners.length > 0 ? runners : [hashHere], (shard, batch) => hosts[shard].writeRecords(batch));
    } else {
      dealPages(sources, settings.shards, (shard, batch) => hosts[shard].write(batch));
    }
  } catch (error) {
    await Promise.all(hosts.map((h) => h.start()));
    throw error;
  }
  await Promise.all(hosts.map((h) => h.start()));
}

/** Every shard's engine, started together; if one fails, the others are closed. */
async function startShards(factory: ShardHostFactory, spec: ShardSpec, shards: number): Promise<ShardHost[]> {
  const started = await Promise.allSettled(Array.from({ length: shards }, () => factory(spec)));
  const hosts = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure) {
    await Promise.all(hosts.map((h) => h.close()));
    throw failure.reason;
  }
  return hosts;
}
