/**
 * A scaled scenario's page from its plan, as docs/fingerprints.md defines it, one word at a time:
 * kind 0 is a page of byte `a`; any other kind, 1024 words of xorshift128 from
 * (kind, a, b, c ^ 0x6a09e667) after 8 discarded steps. The core makes the same bytes eight pages
 * at a time (assembly/generate.ts); this is what tests and the bench check it against.
 */
import { PAGE_SIZE } from '../backend.js';

export function referenceScenarioPage(plan: ArrayLike<number>): Uint8Array {
  const page = new Uint8Array(PAGE_SIZE);
  if (plan[0] === 0) return page.fill(plan[1]);
  const words = new Uint32Array(page.buffer);
  let x = plan[0] >>> 0, y = plan[1] >>> 0, z = plan[2] >>> 0, w = (plan[3] ^ 0x6a09e667) >>> 0;
  for (let i = -8; i < words.length; i++) {
    const t = x ^ (x << 11);
    x = y; y = z; z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    if (i >= 0) words[i] = w;
  }
  return page;
}
