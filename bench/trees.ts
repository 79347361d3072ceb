/**
 * Suite "trees": the stable and unstable trees from 10⁴ to 10⁶ entries. The trees are internal, so
 * they are measured through whole passes over workloads built so that the pass is tree work:
 *
 *   unstable   N unique pages (4 guests). After the first pass (checksums), every page of every
 *              pass searches the stable tree (empty) and the unstable tree (a miss), and is
 *              inserted: N search+insert steps into a tree growing from 0 to N. Figure: passes 2
 *              and 3, per page.
 *   stable     two identical guests of M pages each (2M pages). In pass 2 the first guest's pages
 *   build      go into the unstable tree; each page of the second searches the stable tree (a miss:
 *              its content is not there yet), finds its twin in the unstable tree, and the two
 *              become a KSM page inserted in the stable tree (M inserts into a tree growing to M).
 *   stable     then a third identical guest joins. In its second pass every one of its M pages is
 *   hit        a stable-tree hit (search, full compare, then mapped to the KSM page). Its cost per
 *              page is that pass minus a steady pass of the first two guests (measured just before).
 *
 * Pages are random, so two pages differ in their first bytes: this is tree work with short keys
 * deciding (the prefix workload of the scans suite is the opposite case). The entries column is the
 * tree's size at the end of the pass; log2 of it is roughly the depth of a descent.
 */
import { Ksm } from '../src/index.js';
import { median, ratio, round, stopwatch, type Context, type Row } from './lib.js';
import { largestFitting, runWorkload, type Engine } from './run.js';
import { PAGE, fillPages, unique, type Workload } from './workloads.js';

/** Two guests with the same M pages. */
const twins = (m: number): Workload => ({
  name: 'twins', guests: 2, pagesPerGuest: m, description: `2 identical guests of ${m} pages`,
  page: (_g, vpn) => ({ kind: 'random', stream: 1, index: vpn }),
});

interface TreeResult { nsPerPage: number; entries: number }

async function unstableTree(engine: Engine, n: number): Promise<TreeResult> {
  const run = await runWorkload(engine, unique(n, 4), { passes: 3 });
  const ms = median([run.passes[1].ms, run.passes[2].ms]);
  return { nsPerPage: (ms * 1e6) / run.pages, entries: run.pages };
}

async function stableTree(engine: Engine, m: number): Promise<{ build: TreeResult; hit: TreeResult }> {
  let hitMs = 0;
  const run = await runWorkload(engine, twins(m), {
    passes: 3,
    after: (ksm: Ksm) => {
      const steady = stopwatch();
      ksm.scanFull();
      const steadyMs = steady();
      const image = new Uint8Array(m * PAGE);
      fillPages(image, 1, 0);
      ksm.createSpace({ name: 'third', image, mergeable: true });
      ksm.scanFull(); // the third guest's first sight: checksums
      const t = stopwatch();
      ksm.scanFull(); // every page of the third guest: a stable-tree hit
      hitMs = t() - steadyMs;
      if (ksm.stats().pagesSharing !== 2 * m) throw new Error(`stable hit pass: expected ${2 * m} pages sharing, got ${ksm.stats().pagesSharing}`);
    },
  });
  if (run.passes[1].stats.pagesShared !== m) throw new Error(`stable build: expected ${m} KSM pages, got ${run.passes[1].stats.pagesShared}`);
  return {
    build: { nsPerPage: (run.passes[1].ms * 1e6) / m, entries: m },
    hit: { nsPerPage: (hitMs * 1e6) / m, entries: m },
  };
}

export async function trees(ctx: Context): Promise<void> {
  // 10⁶ pages is 3.8 GiB, just under wasm32's 4 GiB; if a size does not fit, the largest that
  // does is run instead, and the note says so.
  const maxPages = largestFitting(50_000);
  const unstableSizes = (ctx.quick ? [1e4] : [1e4, 1e5, 1e6]).map((n) => Math.min(n, maxPages));
  const stableSizes = (ctx.quick ? [1e4] : [1e4, 1e5, 5e5]).map((m) => Math.min(m, maxPages / 2));
  if (!ctx.quick && (unstableSizes[2] < 1e6 || stableSizes[2] < 5e5)) {
    ctx.note(`10⁶ unstable entries or 5·10⁵ stable entries do not fit in the engine's linear memory; the largest sizes run are ${unstableSizes[2]} and ${stableSizes[2]}.`);
  }
  const referenceMax = ctx.quick ? 1e4 : 1e5;
  const rows: Row[] = [];
  const add = (tree: string, engine: Engine, r: TreeResult, pagesInPass: number) => {
    ctx.figure(`trees.${tree}.${r.entries}.${engine}.nsPerPage`, r.nsPerPage);
    rows.push({
      tree, entries: r.entries, engine, 'pages in the pass': pagesInPass,
      'ns per page': round(r.nsPerPage), 'ns per level (÷ log2 entries)': round(r.nsPerPage / Math.log2(r.entries)),
    });
  };
  const fits = (key: string, pages: number, what: string) => {
    const ok = ctx.fits(key, pages);
    if (!ok) ctx.note(`${what}: skipped, it would not fit in the time budget (${ctx.budgetLeft()} s left)`);
    return ok;
  };
  const unstableJob = async (n: number) => {
    if (!fits('trees.unstable', n, `unstable tree at ${n} entries`)) return;
    for (const engine of (n <= referenceMax ? ['wasm', 'reference'] : ['wasm']) as Engine[]) {
      const t0 = performance.now();
      add('unstable: search miss + insert', engine, await unstableTree(engine, n), n);
      if (engine === 'wasm') ctx.learn('trees.unstable', n, performance.now() - t0);
    }
    ctx.progress(`unstable tree ${n} done`);
  };
  const stableJob = async (m: number) => {
    if (!fits('trees.stable', 3 * m, `stable tree at ${m} entries`)) return;
    for (const engine of (2 * m <= referenceMax ? ['wasm', 'reference'] : ['wasm']) as Engine[]) {
      const t0 = performance.now();
      const r = await stableTree(engine, m);
      if (engine === 'wasm') ctx.learn('trees.stable', 3 * m, performance.now() - t0);
      add('stable build: search miss, unstable hit, merge, insert', engine, r.build, 2 * m);
      add('stable hit: search, compare, map the KSM page', engine, r.hit, m);
    }
    ctx.progress(`stable tree ${m} done`);
  };
  // Smallest sizes of both trees first, so that the time budget only ever cuts the largest.
  for (let i = 0; i < Math.max(unstableSizes.length, stableSizes.length); i++) {
    if (i < unstableSizes.length) await unstableJob(unstableSizes[i]);
    if (i < stableSizes.length) await stableJob(stableSizes[i]);
  }
  rows.sort((a, b) => String(a.tree).localeCompare(String(b.tree)) || (a.entries as number) - (b.entries as number));
  for (const row of rows) {
    if (row.engine !== 'reference') continue;
    const wasm = rows.find((r) => r.tree === row.tree && r.entries === row.entries && r.engine === 'wasm');
    if (wasm) row['wasm ÷ reference'] = ratio((row['ns per page'] as number) / (wasm['ns per page'] as number));
  }
  ctx.table('Tree work per page, through whole passes (main-thread time; the reference only up to ' + referenceMax + ' pages)', rows);
  ctx.note(`Random pages differ in their first bytes, so descents are decided by the records' short keys; see the prefix workload for full-page compares. Sizes: ${unstableSizes.join(', ')} unstable entries; ${stableSizes.join(', ')} stable entries (${stableSizes.map((m) => 3 * m).join(', ')} pages).`);
}
