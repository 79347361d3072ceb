/**
 * Differential property test: long random sequences of operations on both engines (the WebAssembly
 * core and the TypeScript reference). After every step each space reads back exactly what a plain
 * byte model holds, and the two engines report identical counters, ksm_stat and page states.
 * With sharing domains among the spaces, no KSM frame is ever mapped by spaces of two domains, and
 * one named domain for every space gives exactly the figures of the default domain.
 * FUZZ_RUNS sets the number of sequences (npm run fuzz runs many more).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { Ksm, KsmError, type AddressSpace, type AnyKnobName } from '../src/index.js';
import type { WasmBackend } from '../src/core.js';
import { fillPage, randomPage } from './helpers/pages.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const PAGE = 4096;

/** A small pool of contents, so that duplicates, zero pages and near-misses are common. */
const POOL: Uint8Array[] = [
  new Uint8Array(PAGE), fillPage(1), fillPage(0xff), randomPage('p0'), randomPage('p1'), randomPage('p2'),
  (() => { const p = randomPage('p0'); p[PAGE - 1] ^= 1; return p; })(), // differs from p0 in the last byte
  (() => { const p = new Uint8Array(PAGE); p[0] = 1; return p; })(),
];

/** A huge-page space: 512 pages in 8 runs of 64 equal pages, so twins share a huge page often. */
const HUGE_RUN = 64;
const hugeLayout = (runs: number[]): number[] => runs.flatMap((c) => Array<number>(HUGE_RUN).fill(c));

type Op =
  | { op: 'create'; pages: number[]; mergeable: boolean; huge?: boolean; domain?: number }
  | { op: 'write'; s: number; page: number; content: number; offset: number; length: number }
  | { op: 'fork'; s: number }
  | { op: 'madvise'; s: number; first: number; count: number; advice: 'mergeable' | 'unmergeable' | 'dontneed' }
  | { op: 'unmap'; s: number; first: number; count: number }
  | { op: 'close'; s: number }
  | { op: 'mergeAny'; s: number; on: boolean }
  | { op: 'scan'; batches: number }
  | { op: 'knob'; name: string; value: number }
  | { op: 'tick'; ms: number };

const space = fc.nat(7);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ op: fc.constant('create' as const), pages: fc.array(fc.nat(POOL.length - 1), { minLength: 1, maxLength: 8 }), mergeable: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('write' as const), s: space, page: fc.nat(7), content: fc.nat(POOL.length - 1), offset: fc.oneof(fc.constant(0), fc.nat(PAGE - 1)), length: fc.oneof(fc.constant(PAGE), fc.integer({ min: 1, max: 64 })) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), s: space }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('madvise' as const), s: space, first: fc.nat(7), count: fc.nat(8), advice: fc.constantFrom('mergeable' as const, 'unmergeable' as const, 'dontneed' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('unmap' as const), s: space, first: fc.nat(7), count: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('close' as const), s: space }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('mergeAny' as const), s: space, on: fc.boolean() }) },
  { weight: 8, arbitrary: fc.record({ op: fc.constant('scan' as const), batches: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.oneof(
    fc.record({ op: fc.constant('knob' as const), name: fc.constant('pages_to_scan'), value: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ op: fc.constant('knob' as const), name: fc.constantFrom('use_zero_pages', 'smart_scan'), value: fc.nat(1) }),
    fc.record({ op: fc.constant('knob' as const), name: fc.constant('max_page_sharing'), value: fc.integer({ min: 2, max: 4 }) }),
    fc.record({ op: fc.constant('knob' as const), name: fc.constant('run'), value: fc.constantFrom(0, 1, 1, 1, 2) }),
    fc.record({ op: fc.constant('knob' as const), name: fc.constant('stable_node_chains_prune_millisecs'), value: fc.constantFrom(0, 10, 100000, 4294967295) }),
  ) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 50 }) }) },
);

/** The same, with spaces of one huge page each among them (each costs 512 pages per step to compare). */
const hugeCreate = fc.record({ op: fc.constant('create' as const), pages: fc.array(fc.nat(POOL.length - 1), { minLength: 8, maxLength: 8 }).map(hugeLayout), mergeable: fc.constant(true), huge: fc.constant(true) });
const opOrHugeArb: fc.Arbitrary<Op> = fc.oneof({ weight: 12, arbitrary: opArb }, { weight: 1, arbitrary: hugeCreate });

/** The same, with spaces created in one of three sharing domains (or the default one). */
const DOMAINS = 3;
const domainCreate = fc.record({ op: fc.constant('create' as const), pages: fc.array(fc.nat(POOL.length - 1), { minLength: 1, maxLength: 8 }), mergeable: fc.boolean(), domain: fc.nat(DOMAINS) });
const opOrDomainArb: fc.Arbitrary<Op> = fc.oneof({ weight: 12, arbitrary: opArb }, { weight: 3, arbitrary: domainCreate });
const domainName = (domain: number | undefined): string | undefined => (domain === undefined || domain === DOMAINS ? undefined : `tenant${domain}`);

/** One engine plus the plain byte model it must agree with. */
class Side {
  readonly spaces: AddressSpace[] = [];
  /** `domainOf`: the domain a create op's spaces get. */
  constructor(readonly ksm: Ksm, readonly domainOf: (domain: number | undefined) => string | undefined = domainName) {}
}

/** The model: per space, per page, its bytes (null: unmapped). */
type Model = { pages: (Uint8Array | null)[]; closed: boolean }[];

function applyToModel(model: Model, op: Op): void {
  const live = model.filter((s) => !s.closed);
  switch (op.op) {
    case 'create': model.push({ pages: op.pages.map((c) => POOL[c].slice()), closed: false }); break;
    case 'write': {
      const s = live[op.s % Math.max(1, live.length)];
      if (!s) return;
      const page = s.pages[op.page % s.pages.length];
      if (!page) return;
      const offset = Math.min(op.offset, PAGE - op.length);
      page.set(POOL[op.content].subarray(offset, offset + op.length), offset);
      break;
    }
    case 'fork': {
      const s = live[op.s % Math.max(1, live.length)];
      if (s) model.push({ pages: s.pages.map((p) => (p ? p.slice() : null)), closed: false });
      break;
    }
    case 'madvise': {
      const s = live[op.s % Math.max(1, live.length)];
      if (!s || op.advice !== 'dontneed') return;
      const [first, count] = clampRange(s.pages.length, op.first, op.count);
      if (s.pages.slice(first, first + count).some((p) => p === null)) return;
      for (let p = first; p < first + count; p++) s.pages[p] = new Uint8Array(PAGE);
      break;
    }
    case 'unmap': {
      const s = live[op.s % Math.max(1, live.length)];
      if (!s) return;
      const [first, count] = clampRange(s.pages.length, op.first, op.count);
      for (let p = first; p < first + count; p++) s.pages[p] = null;
      break;
    }
    case 'close': {
      const s = live[op.s % Math.max(1, live.length)];
      if (s) s.closed = true;
      break;
    }
  }
}

const clampRange = (pages: number, first: number, count: number): [number, number] => {
  const f = first % pages;
  return [f, Math.min(count, pages - f)];
};

/** Applies an op to one engine; returns the KsmError code if it refused. */
function applyToSide(side: Side, op: Op): string | undefined {
  const live = side.spaces.filter((s) => !s.closed);
  const pick = (i: number) => live[i % Math.max(1, live.length)];
  try {
    switch (op.op) {
      case 'create': {
        const s = side.ksm.createSpace({ pages: op.pages.length, mergeable: op.mergeable, domain: side.domainOf(op.domain) });
        op.pages.forEach((c, p) => s.write(p, POOL[c]));
        if (op.huge) s.collapse();
        side.spaces.push(s);
        break;
      }
      case 'write': {
        const s = pick(op.s);
        if (!s) return;
        const page = op.page % s.pages;
        if (s.pageInfo(page).mapping === 'unmapped') return;
        const offset = Math.min(op.offset, PAGE - op.length);
        s.write(page, POOL[op.content].subarray(offset, offset + op.length), offset);
        break;
      }
      case 'fork': { const s = pick(op.s); if (s) side.spaces.push(s.fork()); break; }
      case 'madvise': {
        const s = pick(op.s);
        if (!s) return;
        const [first, count] = clampRange(s.pages, op.first, op.count);
        s.madvise(first, count, op.advice);
        break;
      }
      case 'unmap': {
        const s = pick(op.s);
        if (!s) return;
        const [first, count] = clampRange(s.pages, op.first, op.count);
        s.unmap(first, count);
        break;
      }
      case 'close': pick(op.s)?.close(); break;
      case 'mergeAny': pick(op.s)?.setMergeAny(op.on); break;
      case 'scan': for (let i = 0; i < op.batches; i++) side.ksm.scan(); break;
      case 'knob': side.ksm.setKnob(op.name as AnyKnobName, op.value); break;
    }
  } catch (error) {
    if (error instanceof KsmError) return error.code;
    throw error;
  }
  return undefined;
}

/** The state both engines must agree on, with frames renamed by first appearance. */
function observe(side: Side): unknown {
  const frames = new Map<number, number>();
  const rename = (f: number) => (f < 0 ? f : frames.get(f) ?? (frames.set(f, frames.size), frames.size - 1));
  return {
    stats: side.ksm.stats(),
    live: (({ framesInUse, mappedPages, ksmFrames, hugePages, hugePageSplits, splitZeroPages }) =>
      ({ framesInUse, mappedPages, ksmFrames, hugePages, hugePageSplits, splitZeroPages }))(side.ksm.live()),
    spaces: side.spaces.map((s) => ({
      closed: s.closed,
      stat: s.ksmStat(),
      pages: s.closed ? [] : Array.from({ length: s.pages }, (_, p) => {
        const info = s.pageInfo(p);
        return { ...info, frame: rename(info.frame) };
      }),
    })),
  };
}

function checkContents(side: Side, model: Model, label: string): void {
  const live = model.filter((s) => !s.closed);
  const spaces = side.spaces.filter((s) => !s.closed);
  assert.is(spaces.length, live.length, `${label}: live spaces`);
  spaces.forEach((s, i) => {
    live[i].pages.forEach((bytes, p) => {
      if (bytes === null) return;
      const got = s.read(p);
      if (Buffer.compare(got, bytes) !== 0) assert.unreachable(`${label}: space ${i} page ${p} reads other bytes than were written`);
    });
  });
}

/** No KSM frame is mapped by spaces of two domains (frames compared by their engine's numbers). */
function checkDomainsApart(side: Side, label: string): void {
  const domainOfFrame = new Map<number, string>();
  for (const s of side.spaces) {
    if (s.closed) continue;
    for (let p = 0; p < s.pages; p++) {
      const info = s.pageInfo(p);
      if (info.mapping !== 'ksm') continue;
      const seen = domainOfFrame.get(info.frame);
      if (seen !== undefined && seen !== s.domain) assert.unreachable(`${label}: KSM frame ${info.frame} mapped by domains ${seen} and ${s.domain}`);
      domainOfFrame.set(info.frame, s.domain);
    }
  }
}

export async function runSequence(ops: Op[]): Promise<void> {
  let now = 0;
  const clock = () => now;
  const wasm = new Side(await Ksm.create({ engine: 'wasm', debug: true, maxMemory: 48 << 20, clock })); // room for 8 huge-page spaces
  const ref = new Side(await Ksm.create({ engine: 'reference', clock }));
  const model: Model = [];
  for (const [i, op] of ops.entries()) {
    if (op.op === 'tick') { now += op.ms; continue; }
    if (op.op === 'create' && model.filter((s) => !s.closed).length >= 8) continue;
    const a = applyToSide(wasm, op);
    const b = applyToSide(ref, op);
    const label = `step ${i} ${JSON.stringify(op)}`;
    assert.is(a, b, `${label}: both engines refuse alike`);
    if (a === undefined) applyToModel(model, op);
    checkContents(wasm, model, `${label} (wasm)`);
    checkContents(ref, model, `${label} (reference)`);
    assert.equal(observe(wasm), observe(ref), `${label}: counters and page states agree`);
    checkDomainsApart(wasm, `${label} (wasm)`);
    checkDomainsApart(ref, `${label} (reference)`);
    for (let domain = 0; domain <= DOMAINS; domain++) {
      const trees = (wasm.ksm.backend as WasmBackend).verifyTrees(domain);
      assert.ok(trees.stable >= 0 && trees.unstable >= 0, `${label}: red-black rules hold (domain id ${domain})`);
    }
  }
}

/** Every space in one named domain, against every space in the default domain: the same figures. */
async function runSingleDomain(ops: Op[]): Promise<void> {
  let now = 0;
  const clock = () => now;
  const plain = new Side(await Ksm.create({ engine: 'wasm', clock }), () => undefined);
  const named = new Side(await Ksm.create({ engine: 'wasm', clock }), () => 'tenant');
  for (const [i, op] of ops.entries()) {
    if (op.op === 'tick') { now += op.ms; continue; }
    if (op.op === 'create' && plain.spaces.filter((s) => !s.closed).length >= 8) continue;
    const label = `step ${i} ${JSON.stringify(op)}`;
    assert.is(applyToSide(named, op), applyToSide(plain, op), `${label}: both refuse alike`);
    assert.equal(observe(named), observe(plain), `${label}: one named domain has the default domain's figures`);
  }
}

const test = suite('differential: WebAssembly core vs TypeScript reference');

test(`${RUNS} random sequences agree step by step`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 60 }), (ops) => runSequence([{ op: 'knob', name: 'run', value: 1 }, ...ops])),
    { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
});

test(`${Math.ceil(RUNS / 20)} random sequences with huge pages agree step by step`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opOrHugeArb, { minLength: 10, maxLength: 60 }), (ops) => runSequence([{ op: 'knob', name: 'run', value: 1 }, ...ops])),
    { numRuns: Math.ceil(RUNS / 20), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
});

test(`${Math.ceil(RUNS / 4)} random sequences with sharing domains agree step by step, and no KSM frame crosses a domain`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opOrDomainArb, { minLength: 10, maxLength: 60 }), (ops) => runSequence([{ op: 'knob', name: 'run', value: 1 }, ...ops])),
    { numRuns: Math.ceil(RUNS / 4), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
});

test(`${Math.ceil(RUNS / 10)} random sequences: one named domain for every space gives the default domain's figures`, async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 10, maxLength: 60 }), (ops) => runSingleDomain([{ op: 'knob', name: 'run', value: 1 }, ...ops])),
    { numRuns: Math.ceil(RUNS / 10), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
  );
});

test.run();
