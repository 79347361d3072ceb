/**
 * When the estimate stops. The merge state is pages_shared, pages_sharing,
 * pages_unshared + pages_volatile, ksm_zero_pages, stable_node_chains and stable_node_dups (raw
 * pages_unshared swings with smart_scan's skips, so it is not in it). The run has converged when
 * that state has not changed for K consecutive full scans, i.e. the last K+1 scans agree.
 */

export interface MergeCounters {
  pagesShared: number; pagesSharing: number; pagesUnshared: number; pagesVolatile: number;
  ksmZeroPages: number; stableNodeChains: number; stableNodeDups: number;
}

/** The merge state as one comparable string. */
export function mergeState(s: MergeCounters): string {
  return [s.pagesShared, s.pagesSharing, s.pagesUnshared + s.pagesVolatile, s.ksmZeroPages, s.stableNodeChains, s.stableNodeDups].join(',');
}

/** True when the last `k` + 1 scans have the same merge state. */
export function hasConverged(scans: readonly MergeCounters[], k: number): boolean {
  if (scans.length < k + 1) return false;
  const last = mergeState(scans[scans.length - 1]);
  return scans.slice(-(k + 1)).every((s) => mergeState(s) === last);
}

/** The first full scan (1-based) after which the merge state never changed again. */
export function settledAt(scans: readonly MergeCounters[]): number {
  if (scans.length === 0) return 0;
  const last = mergeState(scans[scans.length - 1]);
  let settled = scans.length;
  while (settled > 1 && mergeState(scans[settled - 2]) === last) settled--;
  return settled;
}
