/**
 * `ksm-wasm estimate --pid` against the real ksmd on real programs this project did not write:
 * Debian's python3 and perl, each loading a lot of code, opting into KSM and stopping itself
 * (SIGSTOP) so its memory is frozen. The estimate runs first, then the real ksmd settles on the
 * same processes (step mode, tests/conformance); pages_shared, pages_sharing, pages_unshared and
 * every process's ksm_rmap_items and ksm_merging_pages must be equal. The processes are started one
 * after another, each stopped (so registered with KSM) before the next starts: PID order is
 * registration order, which is ksmd's scan order and the order given to --pid.
 *
 * Needs root and an idle KSM (and python3 and perl); otherwise every test is reported as skipped,
 * with the reason.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { compare, equal, estimatePids, table } from './live/compare.js';
import { liveUnavailable } from './live/kernel.js';
import { skipTest } from './helpers/can-run.js';
import { killAll, launched, perlArgs, perlReady, pythonArgs, startForkedPython, startStopped } from './live/programs.js';

const test = suite('live processes vs the real ksmd');
const why = liveUnavailable() ?? (perlReady() ? undefined : 'perl or its core modules are missing');

/** Starts the programs one after another; runs `body` with their pids; kills them all after. */
async function withPrograms(programs: string[][], body: (pids: number[]) => Promise<void>): Promise<void> {
  const pids: number[] = [];
  try {
    for (const args of programs) pids.push(await startStopped(args));
    await body(pids);
  } finally {
    killAll(pids);
  }
}

const INSIDE = [pythonArgs('inside'), pythonArgs('inside'), perlArgs('inside'), perlArgs('inside')];
const LAUNCHED = [launched(pythonArgs('none')), launched(pythonArgs('none')), launched(perlArgs('none')), launched(perlArgs('none'))];
const LABELS = ['python3 #1', 'python3 #2', 'perl #1', 'perl #2'];

function assertEqual(c: Awaited<ReturnType<typeof compare>>, labels: string[]): void {
  assert.ok(equal(c), `estimate and kernel differ:\n${table(c, labels)}`);
  assert.ok(c.kernel.counters.pages_sharing > 100, `the programs share code-loading pages (pages_sharing ${c.kernel.counters.pages_sharing})`);
}

if (why) {
  for (const name of ['opted in from inside: default', 'opted in from inside: --merge-any', 'started by a launcher: default', 'after fork']) {
    skipTest(test, name, why);
  }
} else {
  test('opted in from inside (prctl through the FFI), default question: equal to the kernel', async () => {
    await withPrograms(INSIDE, async (pids) => assertEqual(await compare(pids), LABELS));
  });

  test('opted in from inside, --merge-any: equal to the kernel', async () => {
    await withPrograms(INSIDE, async (pids) => assertEqual(await compare(pids, ['--merge-any']), LABELS));
  });

  test('started by a launcher that calls the prctl and execs: default equal to the kernel; --merge-any adds the stack', async () => {
    await withPrograms(LAUNCHED, async (pids) => {
      const any = await estimatePids(pids, ['--merge-any']);
      const c = await compare(pids);
      assertEqual(c, LABELS);
      any.spaces.forEach((s, i) => assert.ok(s.ksm_rmap_items > c.estimate.spaces[i].ksm_rmap_items,
        `${LABELS[i]}: --merge-any also reads the [stack], which the launcher's exec left unmarked (${s.ksm_rmap_items} vs ${c.estimate.spaces[i].ksm_rmap_items})`));
    });
  });

  test('after fork: parent and child share frames (one frame mapped twice), plus an unrelated python3: equal to the kernel', async () => {
    const pids: number[] = [];
    try {
      pids.push(...await startForkedPython());
      pids.push(await startStopped(pythonArgs('inside')));
      const c = await compare(pids);
      assertEqual(c, ['parent', 'child', 'other']);
      const child = (c.estimate.raw.spaces as Array<Record<string, number>>)[1];
      assert.is(child.fork_of, pids[0], 'the child is modelled as a fork of the parent');
      assert.ok(child.fork_shared_pages > 1000, `the child still shares most frames with the parent (${child.fork_shared_pages})`);
    } finally {
      killAll(pids);
    }
  });
}

test.run();
