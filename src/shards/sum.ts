/**
 * The shards' counters added up, one full scan at a time. Every page counter, every space's
 * ksm_stat and the hidden rmap-item total add up (README, "Bigger hosts: content shards"); the
 * kernel's formulas (pages_volatile, general_profit) are applied to the sum, as the kernel
 * applies them to its totals. full_scans is common to all shards.
 */
import type { EngineCounters } from '../backend.js';
import type { SpaceRecord } from '../estimate/run.js';
import type { ShardScan } from './engine.js';

const ADDED: ReadonlyArray<keyof EngineCounters> = [
  'pagesShared', 'pagesSharing', 'pagesUnshared', 'rmapItems', 'pagesScanned', 'pagesSkipped',
  'stableNodeChains', 'stableNodeDups', 'ksmZeroPages', 'cowKsm',
];

/** The shards' scans of one full scan as one; wallMs is the slowest shard's. */
export function sumShardScans(parts: readonly ShardScan[]): ShardScan {
  if (parts.length === 0) throw new Error('sumShardScans: no shard');
  const fullScans = parts[0].counters.fullScans;
  if (parts.some((p) => p.counters.fullScans !== fullScans)) throw new Error(`shards out of step: full scans ${parts.map((p) => p.counters.fullScans).join(', ')}`);
  const counters = { fullScans } as EngineCounters;
  for (const key of ADDED) counters[key] = parts.reduce((n, p) => n + p.counters[key], 0);
  return {
    counters,
    spaces: parts[0].spaces.map((space, i) => sumSpace(space.name, parts.map((p) => p.spaces[i]))),
    splitZeroPages: parts.reduce((n, p) => n + p.splitZeroPages, 0),
    wallMs: Math.max(...parts.map((p) => p.wallMs)),
  };
}

function sumSpace(name: string, parts: readonly SpaceRecord[]): SpaceRecord {
  const add = (key: Exclude<keyof SpaceRecord, 'name'>) => parts.reduce((n, p) => n + p[key], 0);
  return { name, ksmRmapItems: add('ksmRmapItems'), ksmMergingPages: add('ksmMergingPages'), ksmZeroPages: add('ksmZeroPages'), ksmProcessProfit: add('ksmProcessProfit') };
}
