// Warming the trees for the pages the scanner is about to process (fingerprint engine only).
//
// On a big input a descent is a chain of dependent cache misses: each step's node is known only
// once the step before has loaded its parent. The scanner's descents must stay in the kernel's
// order, one page after the other, but their misses need not: before the scanner reaches them, the
// next few pages that will descend (present, not merged, checksum settled, not about to be skipped
// by smart_scan) walk both trees of their domain side by side, one step of each per round, by the
// keys alone. Their misses then overlap, and the real descents find most nodes in cache.
//
// Nothing here changes the engine: it only loads (into its own sink, so the loads stay), and a
// guess that goes wrong (a page written or merged meanwhile, a tree changed by the pages before)
// costs time only.
import { ITEM_CLEAN, ITEM_STABLE, NODE_CHAIN, RB_LEFT, RB_RIGHT } from './layout';
import { CONTENTS_HAVE_KEYS } from './contents';
import { frameAddress } from './alloc';
import { entryLostThisPass, entryOf, isExiting, isScannable, itemAt, pteAt, ptePfn, spacePages } from './spaces';
import { itemAge, itemEntry, itemFlags, itemKey, itemSkips, nodeKey, nodeKind, nodeKpfn } from './rmap';
import { spaceDomain, stableRootOf, unstableRootOf } from './domains';
import { smartScan } from './state';

/** Pages warmed together: their descents run side by side. */
const LANES: u32 = 16;
/** Entries looked at, at most, to find them. */
const WINDOW: u32 = 128;

/** Per lane (u32 each): the key of its page, the node it stands at, and whether the stable walk met its key. */
const LANE_KEYS: usize = memory.data(64); // LANES × 4
const LANE_NODES: usize = memory.data(64);
const LANE_MATCHED: usize = memory.data(64);

/** Pages of space `warmSpace` below `warmedTo` were looked at already. */
let warmSpace: u32 = 0;
let warmedTo: u32 = 0;
/** Where the walks' loads go, so that none is dropped as unused. */
export let lookaheadSink: u32 = 0;

/** Called with the page the scanner is at: warms the trees for the next pages, once per window. */
export function warmAhead(space: u32, vpn: u32): void {
  if (!FINGERPRINTS || !CONTENTS_HAVE_KEYS) return;
  if (space == warmSpace && vpn < warmedTo && vpn + WINDOW >= warmedTo) return;
  warmSpace = space;
  if (isExiting(space)) { warmedTo = spacePages(space); return; }
  const lanes = collect(space, vpn);
  if (lanes == 0) return;
  const domain = spaceDomain(space);
  walk(stableRootOf(domain), lanes, true);
  walk(unstableRootOf(domain), lanes, false);
}

/** The keys of the next pages from `vpn` that will descend; sets warmedTo past the last looked at. */
function collect(space: u32, vpn: u32): u32 {
  const end = min(spacePages(space), vpn + WINDOW);
  let lanes: u32 = 0;
  let v = vpn;
  while (v < end && lanes < LANES) {
    const entry = entryOf(space, v++);
    const pte = pteAt(entry);
    const item = itemAt(entry);
    if (!isScannable(pte) || item == 0) continue;
    // Merged pages return early; a page whose checksum is to be taken does not descend this pass.
    if ((itemFlags(item) & (ITEM_STABLE | ITEM_CLEAN)) != ITEM_CLEAN) continue;
    if (smartScan && itemAge(item) >= 3 && itemSkips(item) != 0) continue; // skipped this pass
    store<u32>(LANE_KEYS + (lanes << 2), itemKey(item)); // clean: its checksum's visit took the key
    lanes++;
  }
  warmedTo = v;
  return lanes;
}

/**
 * One step of every lane per round, by the keys, down the tree at `root`: stable nodes keep their
 * key; unstable items theirs while clean, and their page-table entry only where a descent loads it.
 * A lane stops at an equal key (having loaded that node's frame) or at a leaf.
 */
function walk(root: u32, lanes: u32, stable: bool): void {
  const top = load<u32>(root);
  for (let i: u32 = 0; i < lanes; i++) {
    // A page whose key is in the stable tree will most likely merge there and not descend the unstable tree.
    const skip = stable ? false : load<u32>(LANE_MATCHED + (i << 2)) != 0;
    store<u32>(LANE_NODES + (i << 2), skip ? 0 : top);
    if (stable) store<u32>(LANE_MATCHED + (i << 2), 0);
  }
  let sink = lookaheadSink;
  let active: u32 = top != 0 ? lanes : 0;
  while (active != 0) {
    active = 0;
    for (let i: u32 = 0; i < lanes; i++) {
      const node = load<u32>(LANE_NODES + (i << 2));
      if (node == 0) continue;
      const key = load<u32>(LANE_KEYS + (i << 2));
      let nodeKeyValue: u32;
      if (stable) {
        nodeKeyValue = nodeKey(node);
        if (nodeKeyValue == key) {
          store<u32>(LANE_MATCHED + (i << 2), 1);
          if (nodeKind(node) != NODE_CHAIN) sink += load<u32>(frameAddress(nodeKpfn(node)));
        }
      } else {
        if ((itemFlags(node) & ITEM_CLEAN) == 0) { store<u32>(LANE_NODES + (i << 2), 0); continue; }
        nodeKeyValue = itemKey(node);
        // As the descent (unstable.ts): a node passed by its key needs no page-table entry.
        if (nodeKeyValue == key || entryLostThisPass) {
          const pte = pteAt(itemEntry(node));
          sink += pte;
          if (nodeKeyValue == key) sink += load<u32>(frameAddress(ptePfn(pte)));
        }
      }
      let next: u32 = 0;
      if (key != nodeKeyValue) {
        next = load<u32>(node + (key < nodeKeyValue ? RB_LEFT : RB_RIGHT));
        if (next != 0) active++;
      }
      store<u32>(LANE_NODES + (i << 2), next);
    }
  }
  lookaheadSink = sink;
}
