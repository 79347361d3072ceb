// The scanner's knobs and cursor (the kernel's ksm_scan), as globals of the core. Other modules
// read them directly and change them through the setters here.
import { DEFAULT_MAX_PAGE_SHARING, DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS } from './layout';

/** max_page_sharing */
export let maxPageSharing: u32 = DEFAULT_MAX_PAGE_SHARING;
export let useZeroPages: bool = false;
export let smartScan: bool = true;
export let chainPruneMillisecs: u32 = DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS;
/** run has the UNMERGE bit (run=2): new slots go to the tail. */
export let runUnmerge: bool = false;

/** The clock of the current batch, ms (for chain pruning). */
export let nowMs: u32 = 0;

/** The slot the cursor is on (0: the head, between passes). */
export let cursorSpace: u32 = 0;
/** The next page of that slot to look at. */
export let cursorVpn: u32 = 0;
/** The walk of this slot has met a mapped mergeable page. */
export let cursorSeenMergeable: bool = false;

/** checksum(zero page), computed at init. */
export let zeroChecksum: u32 = 0;

export function setScanKnobs(maxSharing: u32, zeroPages: bool, smart: bool, pruneMs: u32, unmerge: bool): void {
  maxPageSharing = maxSharing;
  useZeroPages = zeroPages;
  smartScan = smart;
  chainPruneMillisecs = pruneMs;
  runUnmerge = unmerge;
}

export function setNow(ms: u32): void { nowMs = ms; }

export function setCursor(space: u32, vpn: u32, seenMergeable: bool): void {
  cursorSpace = space;
  cursorVpn = vpn;
  cursorSeenMergeable = seenMergeable;
}

export function setCursorVpn(vpn: u32): void { cursorVpn = vpn; }
export function markSeenMergeable(): void { cursorSeenMergeable = true; }
export function setZeroChecksum(c: u32): void { zeroChecksum = c; }
