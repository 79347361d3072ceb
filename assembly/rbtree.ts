// An intrusive red-black tree (CLRS): records carry {left, right, parent|colour} in their first
// three words. There is no compare callback: as with the kernel's rbtree, callers write their own
// descent, then call linkNode + insertFixup. Erasing a node with two children moves its in-order
// successor into its place. `root` is the address of a u32 cell holding the root.
import { RB_BLACK, RB_LEFT, RB_PARENT, RB_RIGHT } from './layout';

@inline export function left(n: u32): u32 { return load<u32>(n, RB_LEFT); }
@inline export function right(n: u32): u32 { return load<u32>(n, RB_RIGHT); }
@inline export function parentOf(n: u32): u32 { return load<u32>(n, RB_PARENT) & ~RB_BLACK; }
@inline function setLeft(n: u32, c: u32): void { store<u32>(n, c, RB_LEFT); }
@inline function setRight(n: u32, c: u32): void { store<u32>(n, c, RB_RIGHT); }
@inline function isBlack(n: u32): bool { return n == 0 || (load<u32>(n, RB_PARENT) & RB_BLACK) != 0; }
@inline function isRed(n: u32): bool { return !isBlack(n); }
@inline function setParent(n: u32, p: u32): void {
  store<u32>(n, p | (load<u32>(n, RB_PARENT) & RB_BLACK), RB_PARENT);
}
@inline function setBlack(n: u32, black: bool): void {
  store<u32>(n, parentOf(n) | (black ? RB_BLACK : 0), RB_PARENT);
}

/** Links `node` as a red leaf at `link` (the root cell, or a parent's left/right word). */
export function linkNode(node: u32, parent: u32, link: u32): void {
  store<u32>(node, 0, RB_LEFT);
  store<u32>(node, 0, RB_RIGHT);
  store<u32>(node, parent, RB_PARENT); // red
  store<u32>(link, node);
}

/** The word that points at `n`: the root cell or its parent's left/right. */
function linkTo(root: u32, n: u32): u32 {
  const p = parentOf(n);
  if (p == 0) return root;
  return left(p) == n ? p + RB_LEFT : p + RB_RIGHT;
}

function rotateLeft(root: u32, x: u32): void {
  const y = right(x);
  const yl = left(y);
  setRight(x, yl);
  if (yl != 0) setParent(yl, x);
  store<u32>(linkTo(root, x), y);
  setParent(y, parentOf(x));
  setLeft(y, x);
  setParent(x, y);
}

function rotateRight(root: u32, x: u32): void {
  const y = left(x);
  const yr = right(y);
  setLeft(x, yr);
  if (yr != 0) setParent(yr, x);
  store<u32>(linkTo(root, x), y);
  setParent(y, parentOf(x));
  setRight(y, x);
  setParent(x, y);
}

/** Restores the red-black rules after linkNode. */
export function insertFixup(root: u32, z: u32): void {
  while (isRed(parentOf(z))) {
    let p = parentOf(z);
    const g = parentOf(p);
    if (p == left(g)) {
      const uncle = right(g);
      if (isRed(uncle)) {
        setBlack(p, true); setBlack(uncle, true); setBlack(g, false);
        z = g;
        continue;
      }
      if (z == right(p)) { z = p; rotateLeft(root, z); p = parentOf(z); }
      setBlack(p, true); setBlack(g, false);
      rotateRight(root, g);
    } else {
      const uncle = left(g);
      if (isRed(uncle)) {
        setBlack(p, true); setBlack(uncle, true); setBlack(g, false);
        z = g;
        continue;
      }
      if (z == left(p)) { z = p; rotateRight(root, z); p = parentOf(z); }
      setBlack(p, true); setBlack(g, false);
      rotateLeft(root, g);
    }
  }
  setBlack(load<u32>(root), true);
}

/** Puts `v` (or nothing) where `u` hangs. */
function transplant(root: u32, u: u32, v: u32): void {
  store<u32>(linkTo(root, u), v);
  if (v != 0) setParent(v, parentOf(u));
}

/** Unlinks `z` from the tree. */
export function erase(root: u32, z: u32): void {
  let x: u32;
  let xParent: u32;
  let removedBlack = isBlack(z);
  if (left(z) == 0) {
    x = right(z); xParent = parentOf(z);
    transplant(root, z, x);
  } else if (right(z) == 0) {
    x = left(z); xParent = parentOf(z);
    transplant(root, z, x);
  } else {
    let y = right(z);
    while (left(y) != 0) y = left(y);
    removedBlack = isBlack(y);
    x = right(y);
    if (parentOf(y) == z) {
      xParent = y;
    } else {
      xParent = parentOf(y);
      transplant(root, y, x);
      setRight(y, right(z));
      setParent(right(y), y);
    }
    transplant(root, z, y);
    setLeft(y, left(z));
    setParent(left(y), y);
    setBlack(y, isBlack(z));
  }
  if (removedBlack) eraseFixup(root, x, xParent);
}

function eraseFixup(root: u32, x: u32, xParent: u32): void {
  while (x != load<u32>(root) && isBlack(x)) {
    if (x == left(xParent)) {
      let w = right(xParent);
      if (isRed(w)) {
        setBlack(w, true); setBlack(xParent, false);
        rotateLeft(root, xParent);
        w = right(xParent);
      }
      if (isBlack(left(w)) && isBlack(right(w))) {
        setBlack(w, false);
        x = xParent; xParent = parentOf(x);
      } else {
        if (isBlack(right(w))) {
          setBlack(left(w), true); setBlack(w, false);
          rotateRight(root, w);
          w = right(xParent);
        }
        setBlack(w, isBlack(xParent)); setBlack(xParent, true); setBlack(right(w), true);
        rotateLeft(root, xParent);
        x = load<u32>(root);
      }
    } else {
      let w = left(xParent);
      if (isRed(w)) {
        setBlack(w, true); setBlack(xParent, false);
        rotateRight(root, xParent);
        w = left(xParent);
      }
      if (isBlack(right(w)) && isBlack(left(w))) {
        setBlack(w, false);
        x = xParent; xParent = parentOf(x);
      } else {
        if (isBlack(left(w))) {
          setBlack(right(w), true); setBlack(w, false);
          rotateLeft(root, w);
          w = left(xParent);
        }
        setBlack(w, isBlack(xParent)); setBlack(xParent, true); setBlack(left(w), true);
        rotateRight(root, xParent);
        x = load<u32>(root);
      }
    }
  }
  if (x != 0) setBlack(x, true);
}

/** `neu` takes `old`'s place in the tree: same parent, children and colour. */
export function replaceNode(root: u32, old: u32, neu: u32): void {
  store<u32>(linkTo(root, old), neu);
  store<u32>(neu, left(old), RB_LEFT);
  store<u32>(neu, right(old), RB_RIGHT);
  store<u32>(neu, load<u32>(old, RB_PARENT), RB_PARENT);
  if (left(old) != 0) setParent(left(old), neu);
  if (right(old) != 0) setParent(right(old), neu);
}

/** The leftmost node, or 0. */
export function first(root: u32): u32 {
  let n = load<u32>(root);
  if (n == 0) return 0;
  while (left(n) != 0) n = left(n);
  return n;
}

/** The in-order successor of `n`, or 0. */
export function next(n: u32): u32 {
  if (right(n) != 0) {
    n = right(n);
    while (left(n) != 0) n = left(n);
    return n;
  }
  let p = parentOf(n);
  while (p != 0 && n == right(p)) { n = p; p = parentOf(n); }
  return p;
}

/**
 * Checks the red-black rules and parent links (debug builds and tests). Returns the black height,
 * or -1 if a rule is broken.
 */
export function verify(root: u32): i32 {
  const n = load<u32>(root);
  if (n == 0) return 0;
  if (parentOf(n) != 0 || !isBlack(n)) return -1;
  return verifySubtree(n);
}

function verifySubtree(n: u32): i32 {
  if (n == 0) return 1;
  const l = left(n);
  const r = right(n);
  if ((l != 0 && parentOf(l) != n) || (r != 0 && parentOf(r) != n)) return -1;
  if (isRed(n) && (isRed(l) || isRed(r))) return -1;
  const hl = verifySubtree(l);
  const hr = verifySubtree(r);
  if (hl < 0 || hl != hr) return -1;
  return hl + (isBlack(n) ? 1 : 0);
}
