/**
 * Built-in workloads (--scenario), made in memory, the same bytes on every run. They follow the
 * kernel oracle's recipes (seed 1, scale 1), so their results can be held against the real ksmd's.
 */
import { CliError } from '../cli/errors.js';
import { ranked, ZERO } from './content.js';
import { PageContent } from '../pagespec.js';
import type { ImageSource } from './source.js';

const SEED = 1;

/** A guest: its name and the names of its pages, in address order. */
export interface GuestSpec { name: string; pages: string[] }

/** Eight guests booted from one 2048-page base image: 15% of each overwritten with unique data, 10% zero pages. */
function clones(seed: number): GuestSpec[] {
  const n = 2048;
  const nz = Math.round(0.10 * n);
  const nd = Math.round(0.15 * n);
  return Array.from({ length: 8 }, (_, g) => {
    const order = ranked(n, seed, 'clones', g, 'select');
    const kind = new Uint8Array(n); // 0 base, 1 zero, 2 dirty
    order.slice(0, nz).forEach((i) => { kind[i] = 1; });
    order.slice(nz, nz + nd).forEach((i) => { kind[i] = 2; });
    const pages = Array.from(kind, (k, i) => (k === 1 ? ZERO : k === 2 ? `r:clones/g${g}/dirty/${i}` : `r:clones/base/${i}`));
    return { name: `clones/guest${g}`, pages };
  });
}

interface MixedGuest { os: 'deb' | 'rhel' | 'win'; zero: number; libs: Array<keyof typeof LIBS>; dataset: boolean; update?: number }

const MIXED: MixedGuest[] = [
  { os: 'deb', zero: 0.20, libs: ['libc', 'python'], dataset: true },
  { os: 'deb', zero: 0.10, libs: ['libc', 'jvm'], dataset: false },
  { os: 'deb', zero: 0.15, libs: ['libc', 'python'], dataset: false, update: 0.12 },
  { os: 'rhel', zero: 0.10, libs: ['libc', 'jvm'], dataset: true },
  { os: 'rhel', zero: 0.25, libs: ['libc', 'python'], dataset: false },
  { os: 'win', zero: 0.05, libs: ['jvm'], dataset: false },
];
const OS_PAGES = { deb: 1024, rhel: 1024, win: 1536 };
const LIBS = { libc: 384, jvm: 512, python: 256 };
const DATASET = 600;

/** Six guests of three OS families with shared libraries, a shared data set, 0xFF pages, forked heaps, zero pages and unique data, shuffled. */
function mixed(seed: number): GuestSpec[] {
  const n = 4096;
  return MIXED.map((cfg, g) => {
    const pages: string[] = [];
    const nb = OS_PAGES[cfg.os];
    const updated = new Set(cfg.update ? ranked(nb, seed, 'mixed', g, 'update').slice(0, Math.round(cfg.update * nb)) : []);
    for (let j = 0; j < nb; j++) pages.push(updated.has(j) ? `r:mixed/g${g}/${cfg.os}-update/${j}` : `r:mixed/os/${cfg.os}/${j}`);
    for (const lib of cfg.libs) for (let j = 0; j < LIBS[lib]; j++) pages.push(`r:mixed/lib/${lib}/${j}`);
    if (cfg.dataset) {
      const cached = ranked(DATASET, seed, 'mixed', g, 'dataset').slice(0, Math.round(0.7 * DATASET)).sort((a, b) => a - b);
      for (const j of cached) pages.push(`r:mixed/dataset/${j}`);
    }
    for (let j = 0; j < 16; j++) pages.push('f:255');
    for (let j = 0; j < 48; j++) pages.push(`r:mixed/g${g}/forkheap/${j}`, `r:mixed/g${g}/forkheap/${j}`);
    const nz = Math.round(cfg.zero * n);
    for (let j = 0; j < nz; j++) pages.push(ZERO);
    for (let j = 0; pages.length < n; j++) pages.push(`r:mixed/g${g}/anon/${j}`);
    const layout = ranked(n, seed, 'mixed', g, 'layout'); // physical memory is fragmented
    return { name: `mixed/guest${g}`, pages: layout.map((k) => pages[k]) };
  });
}

export const SCENARIOS: Readonly<Record<string, { describe: string; guests: (seed: number) => GuestSpec[] }>> = {
  clones: { describe: '8 guests x 2048 pages booted from one base image; 15% unique, 10% zero pages each', guests: clones },
  mixed: { describe: '6 guests x 4096 pages: OS families, shared libraries and data, 0xFF pages, forked heaps, zero pages, unique data', guests: mixed },
};

/** The guests of a built-in scenario as sources (pages made when read). */
export function openScenario(name: string): ImageSource[] {
  const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : undefined;
  if (!scenario) throw new CliError('input', `--scenario ${name}: no such scenario (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return scenario.guests(SEED).map((guest) => specSource(guest));
}

/** A guest given by page names, as a source. */
export function specSource(guest: GuestSpec, seed = SEED): ImageSource {
  return { name: guest.name, pages: guest.pages.length, read: (sink) => sink(new PageContent(seed).image(guest.pages)) };
}

