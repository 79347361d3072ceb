/**
 * What bounds every pass that checksums each page (pass 1, fingerprinting): the kernel's checksum,
 * XXH64 of the page, arranged three ways (assembly/ceilings/checksum-ways.ts, compiled here with
 * the project's own asc, never part of the core), over the same pages as the read-once floor, out
 * of cache and in cache (32 pages, 128 KiB: L2), runs interleaved:
 *
 *   one page at a time      the engine's pageChecksum: four chains of 64-bit multiplies;
 *   two pages interleaved   eight chains: faster only if the multiplier has throughput to spare;
 *   two pages in vectors    lane j of both pages in one i64x2: faster only if 64-bit vector
 *                           multiplies are cheap on this runtime.
 *
 * The fastest of the three in cache, where only its compute counts, over the floor out of cache, is
 * the ceiling of a pass that must checksum every page: no such pass can reach more of the floor.
 */
import { fileURLToPath } from 'node:url';
import asc from 'assemblyscript/asc';
import { floorFor } from './floor.js';
import { median } from './lib.js';
import { PAGE_SIZE } from '../src/backend.js';

const SOURCE = fileURLToPath(new URL('../assembly/ceilings/checksum-ways.ts', import.meta.url));

interface ChecksumWays {
  onePageAtATime(at: number, pages: number): number;
  twoPagesInterleaved(at: number, pages: number): number;
  twoPagesInVectors(at: number, pages: number): number;
}

export const WAYS = ['onePageAtATime', 'twoPagesInterleaved', 'twoPagesInVectors'] as const;
export type Way = (typeof WAYS)[number];

/** The module, compiled once (optimised as the core is). */
let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * The core's release options (asconfig.json: -O3, AssemblyScript's "stub" runtime, which has no
 * garbage collector, SIMD, no asserts), written out: asc's --config would add the core's own entry
 * to the module. The output name is only what writeFile catches; nothing is written to disk.
 */
async function compile(): Promise<WebAssembly.Module> {
  let binary: Uint8Array | undefined;
  const { error, stderr } = await asc.main(
    [SOURCE, '--outFile', 'ways.wasm', '-O3', '--runtime', 'stub', '--enable', 'simd', '--importMemory', '--noAssert'],
    { writeFile: (name: string, contents: Uint8Array | string) => { if (name.endsWith('.wasm')) binary = contents as Uint8Array; } },
  );
  if (error || !binary) throw new Error(`bench: compiling ${SOURCE} failed: ${error?.message ?? ''} ${stderr.toString()}`);
  return WebAssembly.compile(binary as BufferSource);
}

/** The three ways over `memory`. */
async function instantiate(memory: WebAssembly.Memory): Promise<ChecksumWays> {
  compiled ??= compile();
  const imports = { env: { memory, abort: () => { throw new Error('checksum-ways aborted'); } } };
  return (await WebAssembly.instantiate(await compiled, imports)).exports as unknown as ChecksumWays;
}

/**
 * Every way gives, for each pair of neighbouring pages k and k + 1 of the first eight, the XOR of
 * the engine's checksums of the two (onePageAtATime over one page is pageChecksum itself), and
 * over `pages` pages the XOR of all of theirs (its stride from pair to pair).
 */
function checkWays(ways: ChecksumWays, at: number, pages: number): void {
  const page = (k: number) => at + k * PAGE_SIZE;
  for (let k = 0; k < 7; k++) {
    const expected = (ways.onePageAtATime(page(k), 1) ^ ways.onePageAtATime(page(k + 1), 1)) >>> 0;
    for (const way of WAYS) {
      if (ways[way](page(k), 2) >>> 0 !== expected) throw new Error(`bench: ${way} disagrees with the engine's checksum on pages ${k} and ${k + 1}`);
    }
  }
  const all = ways.onePageAtATime(at, pages) >>> 0;
  for (const way of WAYS) if (ways[way](at, pages) >>> 0 !== all) throw new Error(`bench: ${way} disagrees with the engine's checksum over ${pages} pages`);
}

export interface CeilingRun {
  /** Median ms of the floor and of each way over the same bytes. */
  floorMs: number;
  ms: Record<Way, number>;
  /** Which way was fastest. */
  fastest: Way;
}

/**
 * Times the floor and the three ways over `bytes` of pages (out of cache when far larger than the
 * caches) or over 32 pages again and again (`inCache`), `runs` interleaved rounds after a warm-up.
 */
export async function checksumCeiling(bytes: number, inCache: boolean, runs: number): Promise<CeilingRun> {
  const at = 65536;
  const region = inCache ? 32 * PAGE_SIZE : bytes;
  const memory = new WebAssembly.Memory({ initial: (at + region) / 65536 + 1 });
  const words = new Uint32Array(memory.buffer, at, region / 4);
  for (let i = 0; i < words.length; i++) words[i] = Math.imul(i, 0x9e3779b1) ^ (i >>> 7);
  const ways = await instantiate(memory);
  const floor = floorFor(memory);
  const repeat = inCache ? bytes / region : 1;
  const time = (fn: () => unknown) => { const t = performance.now(); for (let r = 0; r < repeat; r++) fn(); return performance.now() - t; };
  const samples: Record<Way | 'floor', number[]> = { floor: [], onePageAtATime: [], twoPagesInterleaved: [], twoPagesInVectors: [] };
  checkWays(ways, at, 32);
  for (let r = 0; r <= runs; r++) { // round 0 warms up (V8 tiers WebAssembly up lazily)
    const floorMs = time(() => floor.readSimd(at, region));
    const wayMs = WAYS.map((way) => time(() => ways[way](at, region / PAGE_SIZE)));
    if (r === 0) continue;
    samples.floor.push(floorMs);
    WAYS.forEach((way, i) => samples[way].push(wayMs[i]));
  }
  const ms = Object.fromEntries(WAYS.map((way) => [way, median(samples[way])])) as Record<Way, number>;
  const fastest = WAYS.reduce((a, b) => (ms[b] < ms[a] ? b : a));
  const floorMs = median(samples.floor);
  return { floorMs, ms, fastest };
}
