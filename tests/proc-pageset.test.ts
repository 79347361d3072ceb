/**
 * The page set of a live process, piece by piece: which mappings ksmd visits (smaps VmFlags), how
 * frames shared after fork are placed, and, on this machine's own processes, that the walk tells
 * the shared zero page and mergeable mappings apart as the kernel does.
 */
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { placePages } from '../src/estimate/proc/forks.js';
import { ksmCompatible, parseSmaps, visitedMappings } from '../src/estimate/proc/mappings.js';
import { PAGE_KSM, type PageSet } from '../src/estimate/proc/pagemap.js';
import { openProcess } from '../src/estimate/proc/index.js';
import { PYTHON, stopped } from './live/programs.js';
import { cannotRun, testIf } from './helpers/can-run.js';

const SMAPS = `55d0c0000000-55d0c0001000 r--p 00000000 fd:01 123   /usr/bin/prog
Anonymous:             0 kB
VmFlags: rd mr mw me
55d0c0001000-55d0c0003000 r--p 00001000 fd:01 123   /usr/bin/prog
Anonymous:             8 kB
VmFlags: rd mr mw me ac mg
7f0000000000-7f0000004000 rw-p 00000000 00:00 0
Anonymous:            16 kB
VmFlags: rd wr mr mw me ac
7f0000004000-7f0000005000 rw-s 00000000 00:01 77    /dev/shm/x
Anonymous:             0 kB
VmFlags: rd wr sh mr mw me ms
7f0000005000-7f0000006000 r--p 00000000 00:00 0     [vvar]
Anonymous:             0 kB
VmFlags: rd mr pf io de dd
7f0000006000-7f0000008000 r-xp 00000000 00:00 0     [vdso]
Anonymous:             0 kB
VmFlags: rd ex mr mw me de
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0     [stack]
Anonymous:            12 kB
VmFlags: rd wr mr mw me gd ac
`;

test('smaps: each mapping with its VmFlags and anonymous KiB', () => {
  const m = parseSmaps(SMAPS);
  assert.is(m.length, 7);
  assert.equal([m[1].start, m[1].end, m[1].perms, m[1].anonKb], [0x55d0c0001000, 0x55d0c0003000, 'r--p', 8]);
  assert.is(m[6].name, '[stack]');
  assert.ok(m[1].flags.has('mg'));
});

test('vma_ksm_compatible by VmFlags, not by permissions: shared, PFN/IO, do-not-expand are out; read-only private is in', () => {
  const m = parseSmaps(SMAPS);
  assert.equal(m.map(ksmCompatible), [true, true, true, false, false, false, true]);
  assert.equal(visitedMappings(m, 'mergeable').map((x) => x.start), [0x55d0c0001000], 'default: only mappings marked mg');
  assert.equal(visitedMappings(m, 'merge-any').map((x) => x.name), ['/usr/bin/prog', '/usr/bin/prog', '', '[stack]'], '--merge-any: every compatible mapping, the stack too');
});

const set = (addresses: number[], pfns: number[], ksm: number[] = []): PageSet => ({
  addresses: Float64Array.from(addresses, (a) => a * 4096), pfns: Float64Array.from(pfns), flags: Uint8Array.from(addresses, (_, i) => (ksm.includes(i) ? PAGE_KSM : 0)),
  ksmPages: ksm.length, thpPages: 0, zeroPageMapped: 0, notAnonymous: 0, swapped: 0, exact: true,
});

test('fork placement: same PFN at the same address is the parent\'s frame; the rest is written, the parent\'s extra pages dropped', () => {
  const parent = set([10, 11, 12, 20], [100, 101, 102, 200]);
  const child = set([11, 12, 13, 20], [101, 555, 556, 200]); // 11 and 20 shared, 12 copied on write, 13 new, 10 gone
  const other = set([10, 11], [900, 901]);
  const [p, c, o] = placePages([parent, child, other]);
  assert.is(p.parent, undefined);
  assert.is(c.parent, 0);
  assert.is(o.parent, undefined);
  assert.equal(Array.from(p.index), [0, 1, 2, 4], 'the family layout is the union of addresses 10, 11, 12, 13, 20');
  assert.equal(Array.from(c.index), [1, 2, 3, 4]);
  assert.equal(Array.from(c.write), [1, 2], 'pages 12 and 13 (indices into the child\'s own pages)');
  assert.equal(c.drop, [0], 'address 10: the parent maps it, the child does not');
  assert.is(c.sharedWithParent, 2);
  assert.is(c.spacePages, 5);
  assert.equal(Array.from(o.index), [0, 1]);
});

test('fork placement: KSM pages mapped by both are read by contents; without PFNs nothing is shared', () => {
  const [, c] = placePages([set([1, 2], [7, 8], [0]), set([1, 2], [7, 8], [0])]);
  assert.equal(Array.from(c.write), [0], 'the KSM page is written, the ordinary shared frame is not');
  const blind = { ...set([1, 2], []), pfns: undefined, flags: undefined, exact: false };
  const [, d] = placePages([blind, blind]);
  assert.is(d.parent, undefined);
  assert.equal(Array.from(d.write), [0, 1]);
});

testIf(test, cannotRun({ root: 'no page frame numbers without root' }))('a live process: the zero page is passed over, mergeable mappings only by default, merge-any reads more', async () => {
  // A read fault on fresh memory maps the shared zero page; MADV_MERGEABLE marks one region.
  const code = `
import mmap, ctypes, os, signal
libc = ctypes.CDLL(None)
a = mmap.mmap(-1, 64 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
b = mmap.mmap(-1, 64 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(32): a[i * 4096] = 1 + i % 3
for i in range(16): _ = a[(32 + i) * 4096]
for i in range(64): b[i * 4096] = 7
addr = ctypes.addressof(ctypes.c_char.from_buffer(a))
assert libc.madvise(ctypes.c_void_p(addr), 64 * 4096, 12) == 0
os.kill(os.getpid(), signal.SIGSTOP)`;
  const child = spawn(PYTHON, ['-c', code], { stdio: 'ignore' });
  try {
    while (!stopped(child.pid!)) await new Promise((r) => setTimeout(r, 10));
    const quiet = { note: () => {} };
    const mergeable = openProcess(child.pid!, quiet);
    assert.is(mergeable.pages, 32, 'the 32 written pages of the madvised region, not its 16 zero-page reads nor the other region');
    assert.is(mergeable.live.zeroPageMapped, 16);
    assert.ok(mergeable.live.exact);
    const any = openProcess(child.pid!, { ...quiet, question: 'merge-any' });
    assert.ok(any.pages >= 32 + 64, `--merge-any adds the other region and the interpreter's pages (${any.pages})`);
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
