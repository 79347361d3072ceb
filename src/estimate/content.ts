/**
 * Page contents by name, reproducible in any language (the kernel oracle's documented recipe, so a
 * scenario built here is byte for byte the one the real ksmd was run on):
 *   "Z"          4096 zero bytes
 *   "r:<key>"    SHAKE-256("ksm-oracle/v1|<seed>|<key>") squeezed to 4096 bytes (equal keys ⇔ equal pages)
 *   "p:<n>"      SHAKE-256("ksm-oracle/v1|<seed>|prefix/common")[:4088] + n as 8 bytes big-endian
 *   "f:<byte>"   one byte repeated
 * Selections rank indices by h64(parts…) = SHA-256(parts.join("|"))[0..8] read little-endian.
 */
import { createHash } from 'node:crypto';
import { PAGE_SIZE } from './source.js';

export const ZERO = 'Z';

/** The ranking key of the recipe: the first 8 bytes of SHA-256 of the parts joined by "|". */
export function h64(...parts: Array<string | number | bigint>): bigint {
  return createHash('sha256').update(parts.join('|')).digest().readBigUInt64LE(0);
}

/** A fixed pseudo-random order of 0..n-1: indices sorted by h64(salt…, index). */
export function ranked(n: number, ...salt: Array<string | number>): number[] {
  const keys = Array.from({ length: n }, (_, i) => h64(...salt, i));
  return Array.from({ length: n }, (_, i) => i).sort((a, b) => (keys[a] < keys[b] ? -1 : keys[a] > keys[b] ? 1 : a - b));
}

/** Makes pages from their names, for one seed. */
export class PageMaker {
  #prefix: Uint8Array | undefined;
  constructor(readonly seed: number) {}

  /** The page named `spec` (a fresh array). */
  page(spec: string): Uint8Array {
    if (spec === ZERO) return new Uint8Array(PAGE_SIZE);
    const [kind, arg] = [spec.slice(0, 2), spec.slice(2)];
    if (kind === 'r:') return this.#shake(arg, PAGE_SIZE);
    if (kind === 'f:') return new Uint8Array(PAGE_SIZE).fill(Number(arg));
    if (kind === 'p:') {
      this.#prefix ??= this.#shake('prefix/common', PAGE_SIZE - 8);
      const out = new Uint8Array(PAGE_SIZE);
      out.set(this.#prefix);
      new DataView(out.buffer).setBigUint64(PAGE_SIZE - 8, BigInt(arg));
      return out;
    }
    throw new RangeError(`unknown page spec ${JSON.stringify(spec)}`);
  }

  /** Pages named by `specs`, one after the other, in one image. */
  image(specs: readonly string[]): Uint8Array {
    const out = new Uint8Array(specs.length * PAGE_SIZE);
    specs.forEach((spec, i) => { if (spec !== ZERO) out.set(this.page(spec), i * PAGE_SIZE); });
    return out;
  }

  #shake(key: string, length: number): Uint8Array {
    return new Uint8Array(createHash('shake256', { outputLength: length }).update(`ksm-oracle/v1|${this.seed}|${key}`).digest());
  }
}
