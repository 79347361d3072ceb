/** Page contents for tests: seeded random pages, fills, zero pages. */
export const PAGE = 4096;

import { prng } from '../../src/prng.js';

/** mulberry32 (src/prng.ts): every test's memory is the same on every run. */
export { prng };

/** A random page named by `key`: equal keys give equal pages. */
export function randomPage(key: string): Uint8Array {
  let seed = 2166136261;
  for (let i = 0; i < key.length; i++) seed = Math.imul(seed ^ key.charCodeAt(i), 16777619);
  const next = prng(seed);
  const page = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i += 4) {
    const v = (next() * 4294967296) >>> 0;
    page[i] = v; page[i + 1] = v >>> 8; page[i + 2] = v >>> 16; page[i + 3] = v >>> 24;
  }
  return page;
}

export const zeroPage = (): Uint8Array => new Uint8Array(PAGE);
export const fillPage = (byte: number): Uint8Array => new Uint8Array(PAGE).fill(byte);

/** Concatenates pages into one image. */
export function image(pages: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(pages.length * PAGE);
  pages.forEach((p, i) => out.set(p, i * PAGE));
  return out;
}
