/**
 * A self-check of the reference engine: recount every counter from the records, and check the
 * trees, the stable-node lists, the slot list and every frame's mapcount. Used by tests (after
 * random operations) and when a differential test disagrees; it walks everything, so it is slow.
 */

import { rbVerify } from './rbtree.js';
import { memcmpPages } from './memory.js';
import { ItemState, StableChain, StableNode, type Frame, type KsmState, type RmapItem, type Slot, type Space } from './records.js';
import type { Scanner } from './scan.js';
import type { StableTree } from './stable.js';
import type { UnstableTree } from './unstable.js';

export function verifyEngine(
  st: KsmState, stable: StableTree, unstable: UnstableTree, scanner: Scanner, liveSpaces: Space[],
): string[] {
  const errors: string[] = [];
  const check = (ok: boolean, what: string): void => { if (!ok) errors.push(what); };
  const c = st.counters;

  // Slots.
  const slotted = new Set<Space>();
  let cursorListed = scanner.cursor === scanner.head;
  for (let slot: Slot = scanner.head.next; slot !== scanner.head; slot = slot.next) {
    const space = slot.space as Space;
    check(space.slot === slot, `space ${space.id}: slot link`);
    check(slot.next.prev === slot, `space ${space.id}: slot list links`);
    slotted.add(space);
    if (slot === scanner.cursor) cursorListed = true;
  }
  check(cursorListed, 'cursor on a slot not in the list');
  check(slotted.size === scanner.slots, `slot count ${scanner.slots} != ${slotted.size}`);
  for (const space of liveSpaces) {
    check(!space.exiting, `live space ${space.id} marked exiting`);
    check(space.slot === null || slotted.has(space), `space ${space.id}: slot not listed`);
    check(space.slot !== null || space.rmapItems === 0, `space ${space.id}: items without a slot`);
  }
  const spaces = new Set<Space>([...liveSpaces, ...slotted]);

  // Stable trees (one per domain): shape, order, nodes and their lists, each node in its own domain's tree.
  const nodes = new Set<StableNode>();
  const onLists = new Set<RmapItem>();
  let chains = 0, dups = 0, shared = 0, sharing = 0;
  const visitNode = (node: StableNode): void => {
    nodes.add(node);
    let len = 0;
    for (let item = node.head; item !== null; item = item.hnext) {
      len++;
      onLists.add(item);
      check(item.state === ItemState.Stable && item.node === node, 'listed item not stable on its node');
      check(item.hnext === null || item.hnext.hprev === item, 'stable list links');
      check(item.space.domain === node.domain, `item of domain ${item.space.domain} on a KSM page of domain ${node.domain}`);
    }
    check(len === node.len, `node len ${node.len} != list length ${len}`);
    if (len > 0) { shared++; sharing += len - 1; }
    if (node.frame.stableNode === node) check(node.frame.mapcount > 0, 'live KSM frame with mapcount 0');
  };
  for (const [domain, tree] of stable.trees) {
    const rb = rbVerify(tree.root);
    check(typeof rb === 'number', `stable tree of domain ${domain}: ${rb}`);
    let prev: Frame | null = null;
    for (let n = tree.first(); n !== null; n = tree.next(n)) {
      check(n.domain === domain, `stable node of domain ${n.domain} in the tree of domain ${domain}`);
      let page: Frame | null;
      if (n instanceof StableChain) {
        chains++;
        for (const dup of n.dups) {
          dups++;
          check(dup.chain === n, 'dup not pointing at its chain');
          check(dup.domain === domain, 'dup of another domain on a chain');
          visitNode(dup);
        }
        page = n.dups.length > 0 ? n.dups[0].frame : null;
      } else {
        check(n.chain === null, 'regular node pointing at a chain');
        visitNode(n);
        page = n.frame;
      }
      if (page !== null && prev !== null) check(memcmpPages(prev, page) < 0, 'stable tree out of order');
      if (page !== null) prev = page;
    }
  }
  check(chains === c.stableNodeChains, `stable_node_chains ${c.stableNodeChains} != ${chains}`);
  check(dups === c.stableNodeDups, `stable_node_dups ${c.stableNodeDups} != ${dups}`);
  check(shared === c.pagesShared, `pages_shared ${c.pagesShared} != ${shared}`);
  check(sharing === c.pagesSharing, `pages_sharing ${c.pagesSharing} != ${sharing}`);
  check(nodes.size + chains === st.stableNodes, 'stable node count');

  // Unstable tree: shape, and exactly the items inserted in this pass (between passes, in the pass
  // just ended: the tree is only reset when the next pass starts).
  const treeAge = scanner.cursor === scanner.head ? 1 : 0;
  const inTree = new Set<RmapItem>();
  for (const [domain, tree] of unstable.trees) {
    const rbu = rbVerify(tree.root);
    check(typeof rbu === 'number', `unstable tree of domain ${domain}: ${rbu}`);
    for (let n = tree.first(); n !== null; n = tree.next(n)) {
      check(n.space.domain === domain, `unstable item of domain ${n.space.domain} in the tree of domain ${domain}`);
      inTree.add(n);
    }
  }

  // Items, page tables, frames.
  let items = 0, unshared = 0, zero = 0, mappings = 0;
  const frames = new Map<Frame, number>();
  for (const space of spaces) {
    let spaceItems = 0, merging = 0, spaceZero = 0;
    for (let vpn = 0; vpn < space.pages; vpn++) {
      const item = space.items[vpn];
      if (item !== null) {
        spaceItems++;
        check(item.space === space && item.vpn === vpn, `space ${space.id} page ${vpn}: item misplaced`);
        if (item.state === ItemState.Stable) {
          merging++;
          check(onLists.has(item), `space ${space.id} page ${vpn}: stable item on no live node`);
        } else if (item.state === ItemState.Unstable) {
          unshared++;
          const age = (c.fullScans - item.seq) & 0xff;
          check(age <= 1, `space ${space.id} page ${vpn}: unstable item of age ${age}`);
          check((age === treeAge) === inTree.has(item), `space ${space.id} page ${vpn}: unstable tree membership`);
        }
      }
      const frame = space.frames[vpn];
      if (space.isZero(vpn)) {
        spaceZero++;
        check(frame === null && space.isMergeable(vpn), `space ${space.id} page ${vpn}: bad zero PTE`);
      }
      if (frame !== null) {
        mappings++;
        frames.set(frame, (frames.get(frame) ?? 0) + 1);
        check(!space.exiting, `exited space ${space.id} still maps page ${vpn}`);
        // (A KSM page may sit in a non-mergeable page: a fork sibling's COW-shared page made KSM in place.)
        if (frame.stableNode !== null) {
          check(nodes.has(frame.stableNode), `space ${space.id} page ${vpn}: KSM page's node not in the tree`);
        }
      }
    }
    items += spaceItems;
    zero += spaceZero;
    check(spaceItems === space.rmapItems, `space ${space.id}: ksm_rmap_items ${space.rmapItems} != ${spaceItems}`);
    check(merging === space.mergingPages, `space ${space.id}: ksm_merging_pages ${space.mergingPages} != ${merging}`);
    check(spaceZero === space.zeroPages, `space ${space.id}: ksm_zero_pages ${space.zeroPages} != ${spaceZero}`);
  }
  for (const item of inTree) check(item.state === ItemState.Unstable, 'unstable tree holds a non-unstable item');
  check(items === c.rmapItems, `rmap_items ${c.rmapItems} != ${items}`);
  check(unshared === c.pagesUnshared, `pages_unshared ${c.pagesUnshared} != ${unshared}`);
  check(zero === c.ksmZeroPages, `ksm_zero_pages ${c.ksmZeroPages} != ${zero}`);
  let ksmFrames = 0;
  for (const [frame, refs] of frames) {
    check(frame.mapcount === refs, `frame ${frame.id}: mapcount ${frame.mapcount} != ${refs} mappings`);
    if (frame.stableNode !== null) ksmFrames++;
  }
  check(frames.size === st.pool.live, `frames alive ${st.pool.live} != ${frames.size}`);
  check(mappings === st.pool.mappings, `mappings ${st.pool.mappings} != ${mappings}`);
  check(ksmFrames === st.pool.ksm, `KSM frames ${st.pool.ksm} != ${ksmFrames}`);
  return errors;
}
