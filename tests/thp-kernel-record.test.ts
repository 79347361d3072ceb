/**
 * The engine against the real ksmd on transparent huge pages: every THP experiment recorded on
 * Linux 6.18 (tests/conformance/thp/results/scenarios.json, made by tests/conformance/thp/run.ts)
 * is replayed on both engines with the very same page bytes (thp_guest.c's fill, from the pids the
 * record keeps), and every full scan's counters, each process's ksm_stat and its page classes
 * (pages on the zero page after splits, pages still in whole huge pages, KSM pages) must equal the
 * kernel's. Deterministic: no kernel needed.
 */
import { readFileSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Ksm, type AddressSpace, type AnyKnobName } from '../src/index.js';

interface Observation {
  at: string;
  counters: Record<string, number>;
  spaces: Array<{ role: string; pid: number; ksm_rmap_items: number; ksm_merging_pages: number; ksm_zero_pages: number; classes: Record<string, number> }>;
}
interface Scenario {
  name: string;
  guests: Array<{ spec: string; fork?: boolean; nohuge?: boolean }>;
  knobs: Record<string, number>;
  khugepaged?: string;
  observations: Observation[];
}

const record = JSON.parse(readFileSync(new URL('./conformance/thp/results/scenarios.json', import.meta.url), 'utf8')) as {
  ksmKnobs: Record<string, string>; scenarios: Scenario[];
};

const PAGE = 4096;
const MASK = (1n << 64n) - 1n;

/** thp_guest.c's page: xorshift64 from seed × golden ratio + 1, as little-endian u64 words. */
function fill(page: DataView, seed: bigint): void {
  let x = (seed * 0x9E3779B97F4A7C15n + 1n) & MASK;
  for (let i = 0; i < PAGE / 8; i++) {
    x ^= (x << 13n) & MASK; x ^= x >> 7n; x ^= (x << 17n) & MASK;
    page.setBigUint64(i * 8, x, true);
  }
}

/** thp_guest.c's memory for `spec` in process `pid`: runs of z, u and class letters, padded with z to huge pages. */
function guestImage(spec: string, pid: number, nohuge: boolean): Uint8Array {
  const kinds: string[] = [];
  for (const run of spec.split(',')) kinds.push(...Array<string>(Number(run.slice(1))).fill(run[0]));
  while (!nohuge && kinds.length % 512 !== 0) kinds.push('z');
  const image = new Uint8Array(kinds.length * PAGE);
  const salt = BigInt(pid) << 32n;
  kinds.forEach((kind, i) => {
    if (kind === 'z') return;
    const seed = kind === 'u' ? salt + BigInt(i) : BigInt(kind.charCodeAt(0) - 97 + 1);
    fill(new DataView(image.buffer, i * PAGE, PAGE), seed);
  });
  return image;
}

/** The kernel's page classes of a space, as the record counts them from pagemap and kpageflags. */
function classes(space: AddressSpace): Record<string, number> {
  const out = { zero: 0, ksm: 0, thp: 0, anon: 0 };
  for (let p = 0; p < space.pages; p++) {
    const info = space.pageInfo(p);
    if (info.mapping === 'split-zero' || info.mapping === 'zero') out.zero++;
    else if (info.mapping === 'ksm') out.ksm++;
    else if (info.huge) out.thp++;
    else if (info.mapping !== 'absent' && info.mapping !== 'unmapped') out.anon++;
  }
  return out;
}

const COUNTERS = ['pages_shared', 'pages_sharing', 'pages_unshared', 'pages_volatile', 'stable_node_chains', 'stable_node_dups', 'ksm_zero_pages'];

for (const engine of ['wasm', 'reference'] as const) {
  const test = suite(`transparent huge pages: the engine equals the recorded kernel (${engine})`);
  for (const scenario of record.scenarios) {
    if (scenario.khugepaged === 'as configured') continue; // khugepaged's timer-driven collapses are not modelled
    test(scenario.name, async () => {
      const knobs = { ...Object.fromEntries(Object.entries(record.ksmKnobs).filter(([k]) => k !== 'run' && k !== 'advisor_mode')), ...scenario.knobs };
      const ksm = await Ksm.create({ engine, maxMemory: 256 << 20 });
      for (const [name, value] of Object.entries(knobs)) ksm.setKnob(name as AnyKnobName, value);
      const [before] = scenario.observations;
      const spaces: AddressSpace[] = [];
      scenario.guests.forEach((guest, g) => {
        const pid = before.spaces.filter((s) => !s.role.endsWith('child'))[g].pid;
        const space = ksm.createSpace({ name: `P${g + 1}`, image: guestImage(guest.spec, pid, guest.nohuge ?? false), hugePages: !guest.nohuge, mergeable: true });
        spaces.push(space);
        if (guest.fork) spaces.push(space.fork(`P${g + 1}child`));
      });
      ksm.setKnob('run', 1);
      for (const seen of scenario.observations) {
        const scan = /^full scan (\d+)$/.exec(seen.at);
        if (!scan) continue;
        while (ksm.stats().fullScans < Number(scan[1])) ksm.scanFull();
        const sysfs = ksm.sysfs();
        const label = `${scenario.name}, ${seen.at}`;
        assert.equal(Object.fromEntries(COUNTERS.map((c) => [c, sysfs[c]])), Object.fromEntries(COUNTERS.map((c) => [c, seen.counters[c]])), `${label}: counters`);
        assert.is(sysfs.pages_scanned, seen.counters.pages_scanned - before.counters.pages_scanned, `${label}: pages_scanned`);
        assert.is(sysfs.pages_skipped, seen.counters.pages_skipped - before.counters.pages_skipped, `${label}: pages_skipped`);
        seen.spaces.forEach((want, i) => {
          const stat = spaces[i].ksmStat();
          assert.equal([stat.ksmRmapItems, stat.ksmMergingPages, stat.ksmZeroPages], [want.ksm_rmap_items, want.ksm_merging_pages, want.ksm_zero_pages], `${label}: ${want.role}'s ksm_stat`);
          const mine = classes(spaces[i]);
          assert.equal(mine, { zero: want.classes.zero, ksm: want.classes.ksm, thp: want.classes.thp, anon: want.classes.anon }, `${label}: ${want.role}'s pages`);
        });
      }
    });
  }
  test.run();
}
