/**
 * A generic red-black tree of the CLRS kind (Cormen et al., "Introduction to Algorithms", ch. 13)
 * over caller-owned node objects with left/right/parent/color fields.
 *
 * As with the kernel's rbtree there is no compare callback: the caller walks the tree with its own
 * order, links a new node at (parent, side) with `link`, then calls `insertFixup`. `erase` of a node
 * with two children puts its in-order successor in its place (CLRS RB-DELETE), and `replace` puts a
 * new node in an old one's position and colour. Both engines follow exactly these algorithms, so
 * they build identical shapes even when the unstable tree's order is broken by writes under it.
 */

export const RB_RED = 0;
export const RB_BLACK = 1;

export interface RbNode<N> {
  left: N | null;
  right: N | null;
  parent: N | null;
  color: number;
}

export class RbTree<N extends RbNode<N>> {
  root: N | null = null;

  /** Link `node` as a red leaf: the root if `parent` is null, else parent's left or right child. */
  link(node: N, parent: N | null, left: boolean): void {
    node.parent = parent;
    node.left = null;
    node.right = null;
    node.color = RB_RED;
    if (parent === null) this.root = node;
    else if (left) parent.left = node;
    else parent.right = node;
  }

  /** CLRS RB-INSERT-FIXUP for a node just linked. */
  insertFixup(node: N): void {
    let z = node;
    for (let p = z.parent; p !== null && p.color === RB_RED; p = z.parent) {
      const g = p.parent as N; // a red node is never the root
      if (p === g.left) {
        const uncle = g.right;
        if (uncle !== null && uncle.color === RB_RED) {
          p.color = RB_BLACK; uncle.color = RB_BLACK; g.color = RB_RED;
          z = g;
          continue;
        }
        if (z === p.right) { z = p; this.rotateLeft(z); }
        const zp = z.parent as N, zg = zp.parent as N;
        zp.color = RB_BLACK; zg.color = RB_RED;
        this.rotateRight(zg);
      } else {
        const uncle = g.left;
        if (uncle !== null && uncle.color === RB_RED) {
          p.color = RB_BLACK; uncle.color = RB_BLACK; g.color = RB_RED;
          z = g;
          continue;
        }
        if (z === p.left) { z = p; this.rotateRight(z); }
        const zp = z.parent as N, zg = zp.parent as N;
        zp.color = RB_BLACK; zg.color = RB_RED;
        this.rotateLeft(zg);
      }
    }
    (this.root as N).color = RB_BLACK;
  }

  /** CLRS RB-DELETE: a node with two children is replaced by its in-order successor. */
  erase(z: N): void {
    let removedColor = z.color;
    let x: N | null;
    let xParent: N | null;
    if (z.left === null) {
      x = z.right; xParent = z.parent;
      this.transplant(z, z.right);
    } else if (z.right === null) {
      x = z.left; xParent = z.parent;
      this.transplant(z, z.left);
    } else {
      const y = minimum(z.right);
      removedColor = y.color;
      x = y.right;
      if (y.parent === z) {
        xParent = y;
      } else {
        xParent = y.parent;
        this.transplant(y, y.right);
        y.right = z.right;
        y.right.parent = y;
      }
      this.transplant(z, y);
      y.left = z.left;
      y.left.parent = y;
      y.color = z.color;
    }
    z.left = z.right = z.parent = null;
    if (removedColor === RB_BLACK) this.eraseFixup(x, xParent);
  }

  /** `nu` takes `old`'s place (parent, children, colour); `old` is left unlinked. */
  replace(old: N, nu: N): void {
    nu.left = old.left;
    nu.right = old.right;
    nu.parent = old.parent;
    nu.color = old.color;
    if (nu.left !== null) nu.left.parent = nu;
    if (nu.right !== null) nu.right.parent = nu;
    this.setChild(old.parent, old, nu);
    old.left = old.right = old.parent = null;
  }

  /** The smallest node, or null. */
  first(): N | null {
    return this.root === null ? null : minimum(this.root);
  }

  /** The in-order successor of `node`, or null. */
  next(node: N): N | null {
    if (node.right !== null) return minimum(node.right);
    let n = node;
    let p = n.parent;
    while (p !== null && n === p.right) { n = p; p = p.parent; }
    return p;
  }

  /** CLRS RB-DELETE-FIXUP; `x` may be null (a nil leaf), so its parent is passed along. */
  private eraseFixup(node: N | null, parent: N | null): void {
    let x = node, p = parent;
    while (x !== this.root && isBlack(x)) {
      const xp = p as N; // x is not the root, so it has a parent
      if (x === xp.left) {
        let w = xp.right as N; // the sibling of a doubly-black node exists
        if (w.color === RB_RED) {
          w.color = RB_BLACK; xp.color = RB_RED;
          this.rotateLeft(xp);
          w = xp.right as N;
        }
        if (isBlack(w.left) && isBlack(w.right)) {
          w.color = RB_RED;
          x = xp; p = xp.parent;
        } else {
          if (isBlack(w.right)) {
            (w.left as N).color = RB_BLACK; w.color = RB_RED;
            this.rotateRight(w);
            w = xp.right as N;
          }
          w.color = xp.color; xp.color = RB_BLACK; (w.right as N).color = RB_BLACK;
          this.rotateLeft(xp);
          x = this.root; p = null;
        }
      } else {
        let w = xp.left as N;
        if (w.color === RB_RED) {
          w.color = RB_BLACK; xp.color = RB_RED;
          this.rotateRight(xp);
          w = xp.left as N;
        }
        if (isBlack(w.right) && isBlack(w.left)) {
          w.color = RB_RED;
          x = xp; p = xp.parent;
        } else {
          if (isBlack(w.left)) {
            (w.right as N).color = RB_BLACK; w.color = RB_RED;
            this.rotateLeft(w);
            w = xp.left as N;
          }
          w.color = xp.color; xp.color = RB_BLACK; (w.left as N).color = RB_BLACK;
          this.rotateRight(xp);
          x = this.root; p = null;
        }
      }
    }
    if (x !== null) x.color = RB_BLACK;
  }

  /** CLRS RB-TRANSPLANT: `v` (possibly nil) takes `u`'s place under u's parent. */
  private transplant(u: N, v: N | null): void {
    this.setChild(u.parent, u, v);
    if (v !== null) v.parent = u.parent;
  }

  private setChild(parent: N | null, old: N, nu: N | null): void {
    if (parent === null) this.root = nu;
    else if (old === parent.left) parent.left = nu;
    else parent.right = nu;
  }

  private rotateLeft(x: N): void {
    const y = x.right as N;
    x.right = y.left;
    if (y.left !== null) y.left.parent = x;
    y.parent = x.parent;
    this.setChild(x.parent, x, y);
    y.left = x;
    x.parent = y;
  }

  private rotateRight(x: N): void {
    const y = x.left as N;
    x.left = y.right;
    if (y.right !== null) y.right.parent = x;
    y.parent = x.parent;
    this.setChild(x.parent, x, y);
    y.right = x;
    x.parent = y;
  }
}

function isBlack<N extends RbNode<N>>(n: N | null): boolean {
  return n === null || n.color === RB_BLACK;
}

function minimum<N extends RbNode<N>>(node: N): N {
  let n = node;
  while (n.left !== null) n = n.left;
  return n;
}

/**
 * Check the red-black properties and parent links of a (sub)tree. Returns its black height, or a
 * message naming the first broken property. For tests and the engine's self-check.
 */
export function rbVerify<N extends RbNode<N>>(node: N | null, parent: N | null = null): number | string {
  if (node === null) return 1;
  if (node.parent !== parent) return 'parent link broken';
  if (parent === null && node.color !== RB_BLACK) return 'red root';
  if (node.color === RB_RED && (!isBlack(node.left) || !isBlack(node.right))) return 'red node with a red child';
  const l = rbVerify(node.left, node);
  if (typeof l === 'string') return l;
  const r = rbVerify(node.right, node);
  if (typeof r === 'string') return r;
  if (l !== r) return 'black heights differ';
  return l + (node.color === RB_BLACK ? 1 : 0);
}
