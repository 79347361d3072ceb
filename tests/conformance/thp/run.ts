/**
 * The THP experiments on the real ksmd, printed as JSON (docs/thp.md reads them):
 *
 *   flock /tmp/ksm-kernel.lock node --import tsx tests/conformance/thp/run.ts [NAME...] > thp.json
 *
 * For each scenario (scenarios.ts; all of them without NAME): KSM idle is required; run=2, the
 * scenario's knobs, step mode; thp_guest processes started in order; their pages observed (pagemap
 * PFN + kpageflags) before ksmd runs, then after every batch (perBatch: only batches where
 * something other than pages_scanned moved are recorded) or every full scan; then run=2 and the
 * guests stopped (each checks its memory). khugepaged is paused (thp-knobs.ts) unless the scenario
 * asks for it as configured; no other THP setting is changed. Every KSM knob and khugepaged's sleep
 * are put back and run left at 0, also on SIGINT/SIGTERM (restore.ts undoes a SIGKILLed run's KSM
 * knobs; the next run undoes its khugepaged sleep).
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { buildGuest } from '../guests.js';
import { restoreKnobs, staleJournal, writeJournal } from '../restore.js';
import { busyReason, readCounters, readKnob, readKsmStat, saveKnobs, unavailableReason, writeKnob } from '../sysfs.js';
import { SCENARIOS, type Scenario } from './scenarios.js';
import { Stepper, STEP_SLEEP } from './stepper.js';
import { KhugepagedControl } from './thp-knobs.js';
import { startThpGuest, stopThpGuest, type ThpGuest } from './thp-guests.js';
import { changes, countClasses, pmdMappedPages, viewRange, type PageView } from './pagemap.js';

const THP_DIR = '/sys/kernel/mm/transparent_hugepage';
const THP_FILES = ['enabled', 'defrag', 'use_zero_page', 'shrink_underused', 'khugepaged/max_ptes_none',
  'khugepaged/max_ptes_shared', 'khugepaged/scan_sleep_millisecs', 'khugepaged/pages_to_scan', 'khugepaged/full_scans',
  'khugepaged/pages_collapsed'];

function thpSettings(): Record<string, string> {
  return Object.fromEntries(THP_FILES.map((f) => {
    const text = readFileSync(`${THP_DIR}/${f}`, 'utf8').trim();
    return [f, /\[([^\]]+)\]/.exec(text)?.[1] ?? text];
  }));
}

/** The lines of /proc/vmstat about THP splits and the zero page. */
function vmstat(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of readFileSync('/proc/vmstat', 'utf8').split('\n')) {
    const [k, v] = line.split(' ');
    if (/^(thp_split_page|thp_split_page_failed|thp_split_pmd|thp_deferred_split_page|thp_underused_split_page|thp_collapse_alloc|thp_zero_page_alloc|cow_ksm|ksm_swpin_copy)$/.test(k)) out[k] = Number(v);
  }
  return out;
}

interface SpaceView { pid: number; role: string; view: PageView[] }

function look(guests: ThpGuest[]): SpaceView[] {
  const out: SpaceView[] = [];
  guests.forEach((g, i) => {
    out.push({ pid: g.pid, role: `P${i + 1}`, view: viewRange(g.pid, g.address, g.bytes) });
    if (g.childPid) out.push({ pid: g.childPid, role: `P${i + 1}child`, view: viewRange(g.childPid, g.address, g.bytes) });
  });
  return out;
}

function observe(label: string, guests: ThpGuest[], prev: SpaceView[] | undefined, vm0: Record<string, number>, stepper?: Stepper) {
  const spaces = look(guests);
  const vm = vmstat();
  return {
    spaces,
    record: {
      at: label,
      counters: readCounters(),
      vmstat: Object.fromEntries(Object.entries(vm).map(([k, v]) => [k, v - (vm0[k] ?? 0)])),
      khugepagedCollapsed: Number(readFileSync(`${THP_DIR}/khugepaged/pages_collapsed`, 'utf8')),
      ksmdCpuMs: stepper ? Math.round(stepper.cpuNs() / 1e4) / 100 : 0,
      spaces: spaces.map((s, i) => {
        const st = readKsmStat(s.pid);
        return {
          role: s.role, pid: s.pid,
          ksm_rmap_items: st.ksm_rmap_items, ksm_merging_pages: st.ksm_merging_pages, ksm_zero_pages: st.ksm_zero_pages,
          pmdMapped: pmdMappedPages(s.pid, addressOf(guests, s.role)),
          classes: countClasses(s.view),
          changes: prev ? changes(prev[i].view, s.view) : undefined,
          samePfnAsParent: s.role.endsWith('child') ? s.view.filter((v, j) => v.pfn >= 0 && v.pfn === spaces[i - 1].view[j].pfn).length : undefined,
        };
      }),
    },
  };
}

function addressOf(guests: ThpGuest[], role: string): number {
  return guests[Number(/^P(\d+)/.exec(role)![1]) - 1].address;
}

/** What says something happened: merges and page classes (pages_scanned, unshared and volatile move every batch). */
function signature(c: Record<string, number>, spaces: SpaceView[]): string {
  const keys = ['pages_shared', 'pages_sharing', 'ksm_zero_pages', 'stable_node_chains', 'stable_node_dups'];
  return keys.map((k) => c[k]).join(',') + '|' + spaces.map((s) => s.view.map((v) => v.cls[0]).join('')).join('|');
}

async function runScenario(sc: Scenario, binary: string, stop: { signal: string }, khugepaged: KhugepagedControl) {
  khugepaged.set(sc.khugepaged ?? 'paused');
  writeKnob('run', 2);
  for (const [k, v] of Object.entries({ pages_to_scan: 100, use_zero_pages: 0, smart_scan: 1, ...sc.knobs })) {
    if (readKnob(k) !== String(v)) writeKnob(k, v);
  }
  writeKnob('sleep_millisecs', STEP_SLEEP[0]);
  writeKnob('run', 0);
  const guests: ThpGuest[] = [];
  const records: unknown[] = [];
  const t0 = performance.now();
  const vm0 = vmstat();
  try {
    for (const g of sc.guests) guests.push(await startThpGuest(binary, g));
    let { spaces, record } = observe('before ksmd', guests, undefined, vm0);
    records.push(record);
    const stepper = new Stepper();
    let fs = readCounters().full_scans;
    let sig = signature(readCounters(), spaces);
    while (true) {
      if (stop.signal) throw new Error(`interrupted by ${stop.signal}`);
      await stepper.batch();
      const c = readCounters();
      const passEnd = c.full_scans !== fs;
      if (sc.perBatch || passEnd) {
        const now = look(guests);
        const s2 = signature(c, now);
        if (passEnd || s2 !== sig) {
          const label = passEnd ? `full scan ${c.full_scans}` : `batch ${stepper.batches} (pass ${c.full_scans + 1})`;
          ({ spaces, record } = observe(label, guests, spaces, vm0, stepper));
          records.push(record);
          sig = s2;
        }
      }
      fs = c.full_scans;
      if (c.full_scans >= sc.passes) break;
    }
    writeKnob('run', 0);
    if (sc.idleAfterMs) {
      const k0 = thpSettings();
      await sleep(sc.idleAfterMs);
      const k1 = thpSettings();
      ({ spaces, record } = observe(`after ${sc.idleAfterMs / 1000} s with ksmd stopped`, guests, spaces, vm0, stepper));
      records.push({ ...record, khugepaged: { full_scans: Number(k1['khugepaged/full_scans']) - Number(k0['khugepaged/full_scans']), pages_collapsed: Number(k1['khugepaged/pages_collapsed']) - Number(k0['khugepaged/pages_collapsed']) } });
    }
    return { name: sc.name, question: sc.question, guests: sc.guests, knobs: sc.knobs, khugepaged: sc.khugepaged ?? 'paused', batches: stepper.batches, repokes: stepper.repokes, seconds: Math.round(performance.now() - t0) / 1000, observations: records };
  } finally {
    try { writeKnob('run', 2); } catch { /* restore retries */ }
    const codes = await Promise.all(guests.map(stopThpGuest));
    if (codes.some((c) => c !== 0)) throw new Error(`${sc.name}: a guest's memory no longer held its contents (exit codes ${codes.join(', ')})`);
  }
}

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !SCENARIOS.some((s) => s.name === n));
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`);
  const why = unavailableReason();
  if (why) { console.log(JSON.stringify({ skipped: why })); return; }
  const stale = staleJournal();
  if (stale) restoreKnobs(stale);
  const busy = busyReason();
  if (busy) throw new Error(busy);
  const binary = buildGuest(fileURLToPath(new URL('./thp_guest.c', import.meta.url)));
  const khugepaged = new KhugepagedControl();
  const saved = saveKnobs();
  writeJournal(saved);
  const stop = { signal: '' };
  const onSignal = (s: string) => { stop.signal = s; };
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(s, onSignal);
  const out = { kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(), thp: thpSettings(), ksmKnobs: saved, scenarios: [] as unknown[] };
  try {
    for (const sc of SCENARIOS.filter((s) => names.length === 0 || names.includes(s.name))) {
      process.stderr.write(`thp: ${sc.name}...\n`);
      out.scenarios.push(await runScenario(sc, binary, stop, khugepaged));
    }
  } finally {
    const left = restoreKnobs(saved);
    const thpLeft = khugepaged.restore();
    if (thpLeft) process.stderr.write(`${thpLeft}\n`);
    if (left.length) process.stderr.write(`KSM knobs NOT restored: ${left.join('; ')} (run node --import tsx tests/conformance/restore.ts)\n`);
    console.log(JSON.stringify(out, null, 1));
  }
}

main().catch((error: Error) => { process.stderr.write(`thp: ${error.message}\n`); process.exitCode = 1; });
