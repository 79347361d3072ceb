/**
 * A shard's result, what `estimate --from FILE… --shard I/K --json` prints and `ksm-wasm merge`
 * reads (docs/fingerprint-file.md, "Shard results"): which shard of which inputs under which knobs,
 * and the shard's raw counters and ksm_stat after each of its full scans. The counters are the
 * engine's (the kernel's hidden rmap-item total among them), so that the kernel's formulas apply
 * to their sum.
 */
import { createHash } from 'node:crypto';
import type { EngineCounters } from '../backend.js';
import type { EstimateKnobs } from '../estimate/knobs.js';
import type { EstimateMode } from '../estimate/mode.js';
import type { SpaceRecord } from '../estimate/run.js';
import type { FingerprintFile } from '../fingerprint/file.js';
import type { ShardScan } from './engine.js';
import type { ShardId } from './from-records.js';
import type { ShardRunResult } from './run-shard.js';

export const RESULT_FORMAT = 'ksm-wasm-shard-result';
/** 2: shards dealt in balanced buckets (balance.ts); 1 dealt by the hash alone, so the two never sum. */
export const RESULT_VERSION = 2;

/** Engine counters under the result's names. */
export const COUNTER_NAMES: Readonly<Record<keyof EngineCounters, string>> = {
  fullScans: 'full_scans', pagesShared: 'pages_shared', pagesSharing: 'pages_sharing', pagesUnshared: 'pages_unshared',
  rmapItems: 'rmap_items', pagesScanned: 'pages_scanned', pagesSkipped: 'pages_skipped', stableNodeChains: 'stable_node_chains',
  stableNodeDups: 'stable_node_dups', ksmZeroPages: 'ksm_zero_pages', cowKsm: 'cow_ksm',
};

export const KNOB_NAMES: Readonly<Record<keyof EstimateKnobs, string>> = {
  pagesToScan: 'pages_to_scan', sleepMillisecs: 'sleep_millisecs', maxPageSharing: 'max_page_sharing', useZeroPages: 'use_zero_pages',
  smartScan: 'smart_scan', mergeAcrossNodes: 'merge_across_nodes', stableNodeChainsPruneMillisecs: 'stable_node_chains_prune_millisecs',
  advisorMode: 'advisor_mode',
};

const SPACE_NAMES = { ksmRmapItems: 'ksm_rmap_items', ksmMergingPages: 'ksm_merging_pages', ksmZeroPages: 'ksm_zero_pages', ksmProcessProfit: 'ksm_process_profit' } as const;

export interface ShardResultJson {
  format: typeof RESULT_FORMAT;
  version: typeof RESULT_VERSION;
  shard: number;
  shards: number;
  /** SHA-256 over the fingerprint files' own checksums, in order: the same inputs give the same. */
  input: string;
  inputs: Array<{ name: string; pages: number }>;
  knobs: Record<string, number | string>;
  max_scans: number;
  /** The engine the shard ran on (absent: pages). */
  mode?: EstimateMode;
  stable_scans: number;
  startup_ms: number;
  read_ms: number;
  scans: Array<{ counters: Record<string, number>; spaces: Array<Record<string, number>>; split_zero_pages: number; wall_ms: number }>;
}

/** The identity of a set of fingerprint files. */
export const inputId = (files: readonly FingerprintFile[]): string => createHash('sha256').update(files.map((f) => f.checksum).join(',')).digest('hex');

export interface ResultContext { files: readonly FingerprintFile[]; shard: ShardId; knobs: EstimateKnobs; maxScans: number; stableScans: number; mode: EstimateMode }

export function shardResultJson(run: ShardRunResult, c: ResultContext): ShardResultJson {
  return {
    format: RESULT_FORMAT,
    version: RESULT_VERSION,
    shard: c.shard.index,
    shards: c.shard.count,
    input: inputId(c.files),
    inputs: c.files.flatMap((f) => f.header.inputs.map((i) => ({ name: i.name, pages: i.pages }))),
    knobs: renamed(c.knobs, KNOB_NAMES) as Record<string, number | string>,
    max_scans: c.maxScans,
    mode: c.mode,
    stable_scans: c.stableScans,
    startup_ms: round3(run.startupMs),
    read_ms: round3(run.readMs),
    scans: run.scans.map((s) => ({
      counters: renamed(s.counters, COUNTER_NAMES) as Record<string, number>,
      spaces: s.spaces.map((sp) => renamed(sp, SPACE_NAMES) as Record<string, number>),
      split_zero_pages: s.splitZeroPages,
      wall_ms: round3(s.wallMs),
    })),
  };
}

/** A scan of a result back as a ShardScan (the result's names checked by merge.ts first). */
export function shardScanOf(scan: ShardResultJson['scans'][number], inputs: ShardResultJson['inputs']): ShardScan {
  return {
    counters: unrenamed(scan.counters, COUNTER_NAMES) as unknown as EngineCounters,
    spaces: scan.spaces.map((sp, i) => ({ name: inputs[i].name, ...unrenamed(sp, SPACE_NAMES) }) as SpaceRecord),
    splitZeroPages: scan.split_zero_pages,
    wallMs: scan.wall_ms,
  };
}

export const knobsOf = (json: ShardResultJson): EstimateKnobs => unrenamed(json.knobs, KNOB_NAMES) as unknown as EstimateKnobs;

function renamed<T extends object>(value: T, names: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(names).map(([from, to]) => [to, (value as Record<string, unknown>)[from]]));
}

function unrenamed(value: Record<string, unknown>, names: Readonly<Record<string, string>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(names).map(([to, from]) => [to, value[from]]));
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
