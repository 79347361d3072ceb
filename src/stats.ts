/**
 * The counters as the kernel shows them: /sys/kernel/mm/ksm (global) and /proc/PID/ksm_stat (per
 * space), computed from an engine's raw counters with the kernel's formulas and constants.
 */
import { PAGE_SIZE, type EngineCounters, type EngineSpaceCounters } from './backend.js';

/** The kernel's constants for profit: a page (the engine's), and one rmap item (what the kernel's slab takes). */
export const KERNEL_PAGE_SIZE = PAGE_SIZE;
export const KERNEL_RMAP_ITEM_SIZE = 64;
/** What the kernel's slab takes for a stable node (for comparisons of metadata; not in any formula). */
export const KERNEL_STABLE_NODE_SIZE = 64;

/**
 * The read-only files of /sys/kernel/mm/ksm, camelCased, with the engine's raw counters they are
 * computed from (the hidden ksm_rmap_items total, and /proc/vmstat cow_ksm). They lag user
 * actions as the kernel's do.
 */
export interface KsmStats extends EngineCounters {
  /** rmap items in no tree: ksm_rmap_items minus the three counted ones. */
  pagesVolatile: number;
  generalProfit: number;
}

/** /proc/PID/ksm_stat of one space. */
export interface KsmStat {
  ksmRmapItems: number;
  ksmZeroPages: number;
  ksmMergingPages: number;
  ksmProcessProfit: number;
  ksmMergeAny: boolean;
  ksmMergeable: boolean;
}

export function kernelStats(c: EngineCounters): KsmStats {
  return Object.freeze({
    ...c,
    pagesVolatile: Math.max(0, c.rmapItems - c.pagesShared - c.pagesSharing - c.pagesUnshared),
    generalProfit: (c.pagesSharing + c.ksmZeroPages) * KERNEL_PAGE_SIZE - c.rmapItems * KERNEL_RMAP_ITEM_SIZE,
  });
}

export function kernelKsmStat(c: EngineSpaceCounters): KsmStat {
  return Object.freeze({
    ksmRmapItems: c.rmapItems,
    ksmZeroPages: c.zeroPages,
    ksmMergingPages: c.mergingPages,
    ksmProcessProfit: (c.mergingPages + c.zeroPages) * KERNEL_PAGE_SIZE - c.rmapItems * KERNEL_RMAP_ITEM_SIZE,
    ksmMergeAny: c.mergeAny,
    ksmMergeable: c.mergeable,
  });
}

/** The sysfs file names of the counters, in the order `ls /sys/kernel/mm/ksm` would not bother with. */
export const SYSFS_COUNTER_NAMES = Object.freeze({
  pagesShared: 'pages_shared',
  pagesSharing: 'pages_sharing',
  pagesUnshared: 'pages_unshared',
  pagesVolatile: 'pages_volatile',
  pagesScanned: 'pages_scanned',
  pagesSkipped: 'pages_skipped',
  fullScans: 'full_scans',
  stableNodeChains: 'stable_node_chains',
  stableNodeDups: 'stable_node_dups',
  ksmZeroPages: 'ksm_zero_pages',
  generalProfit: 'general_profit',
} as const);

export type SysfsCounterName = (typeof SYSFS_COUNTER_NAMES)[keyof typeof SYSFS_COUNTER_NAMES];

/** The counters under their sysfs names (the CLI's JSON and the sysfs-style view). */
export function sysfsCounters(stats: KsmStats): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [camel, file] of Object.entries(SYSFS_COUNTER_NAMES)) out[file] = stats[camel as keyof KsmStats] as number;
  return out;
}

/** ksm_stat in the kernel's text format. */
export function formatKsmStat(s: KsmStat): string {
  return [
    `ksm_rmap_items ${s.ksmRmapItems}`,
    `ksm_zero_pages ${s.ksmZeroPages}`,
    `ksm_merging_pages ${s.ksmMergingPages}`,
    `ksm_process_profit ${s.ksmProcessProfit}`,
    `ksm_merge_any: ${s.ksmMergeAny ? 'yes' : 'no'}`,
    `ksm_mergeable: ${s.ksmMergeable ? 'yes' : 'no'}`,
  ].join('\n') + '\n';
}
