/**
 * Page contents by name: the kernel oracle's gen.py specs, byte for byte, so that a replay script or
 * a built-in scenario means the same memory here and on the real ksmd:
 *
 *   Z            4096 zero bytes
 *   r:<key>      SHAKE-256("ksm-oracle/v1|<seed>|<key>") squeezed to 4096 bytes
 *   p:<n>        SHAKE-256("ksm-oracle/v1|<seed>|prefix/common") squeezed to 4088 bytes, then n as
 *                8 bytes big-endian
 *   f:<byte>     one byte value repeated 4096 times
 *   SPEC*N       (guest page lists only) N copies of SPEC
 *
 * Equal specs give equal bytes, so pages are cached by spec.
 */
import { createHash } from 'node:crypto';
import { PAGE_SIZE } from './backend.js';

const PREFIX_BYTES = PAGE_SIZE - 8;
const P_MAX = (1n << 64n) - 1n;

/** Why a spec is not one gen.py understands, or undefined if it is. */
export function specProblem(spec: unknown): string | undefined {
  if (typeof spec !== 'string') return `a page spec must be a string, got ${JSON.stringify(spec)}`;
  if (spec === 'Z') return undefined;
  const colon = spec.indexOf(':');
  const kind = colon < 0 ? spec : spec.slice(0, colon);
  const arg = colon < 0 ? '' : spec.slice(colon + 1);
  if (colon >= 0 && kind === 'r') return undefined;
  if (colon >= 0 && kind === 'f') {
    return /^\d+$/.test(arg) && Number(arg) <= 255 ? undefined : `bad page spec ${JSON.stringify(spec)}: f:<byte> takes 0..255`;
  }
  if (colon >= 0 && kind === 'p') {
    return /^\d+$/.test(arg) && BigInt(arg) <= P_MAX ? undefined : `bad page spec ${JSON.stringify(spec)}: p:<n> takes an integer 0..2^64-1`;
  }
  return `bad page spec ${JSON.stringify(spec)} (Z, r:<key>, p:<n>, f:<byte>)`;
}

/** ["r:X*3", "Z"] -> ["r:X", "r:X", "r:X", "Z"], as gen.py's callers expand guest page lists. */
export function expandPages(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const s of specs) {
    const star = s.lastIndexOf('*');
    const count = star >= 0 ? s.slice(star + 1) : '';
    if (star >= 0 && /^\d+$/.test(count)) {
      const spec = s.slice(0, star);
      for (let i = Number(count); i > 0; i--) out.push(spec);
    } else {
      out.push(s);
    }
  }
  return out;
}

/** Materialises page specs for one seed (gen.py's `Content`). */
export class PageContent {
  readonly #seed: string;
  readonly #cache = new Map<string, Uint8Array>();

  constructor(seed: number | string = 1) {
    this.#seed = String(seed);
  }

  #shake(key: string, length: number): Uint8Array {
    const digest = createHash('shake256', { outputLength: length }).update(`ksm-oracle/v1|${this.#seed}|${key}`, 'utf8').digest();
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
  }

  /** The 4096 bytes of one spec (a fresh copy: callers may keep or change it). Throws on a bad spec. */
  page(spec: string): Uint8Array {
    let page = this.#cache.get(spec);
    if (!page) {
      const problem = specProblem(spec);
      if (problem) throw new RangeError(problem);
      page = this.#make(spec);
      this.#cache.set(spec, page);
    }
    return page.slice();
  }

  #make(spec: string): Uint8Array {
    if (spec === 'Z') return new Uint8Array(PAGE_SIZE);
    const kind = spec[0];
    const arg = spec.slice(2);
    if (kind === 'r') return this.#shake(arg, PAGE_SIZE);
    if (kind === 'f') return new Uint8Array(PAGE_SIZE).fill(Number(arg));
    const page = new Uint8Array(PAGE_SIZE);
    page.set(this.#shake('prefix/common', PREFIX_BYTES));
    new DataView(page.buffer).setBigUint64(PREFIX_BYTES, BigInt(arg), false);
    return page;
  }

  /** Pages named by `specs`, one after the other, in one image. */
  image(specs: readonly string[]): Uint8Array {
    const out = new Uint8Array(specs.length * PAGE_SIZE);
    specs.forEach((spec, i) => { if (spec !== 'Z') out.set(this.page(spec), i * PAGE_SIZE); });
    return out;
  }
}
