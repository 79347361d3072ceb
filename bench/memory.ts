/**
 * Suite "memory": bytes of metadata per tracked page, and linear memory per GiB of guest pages.
 *
 * Metadata is what the engine keeps for merging: rmap items (one per tracked page, i.e. per page
 * the scanner has found present and mergeable) and stable nodes (one per KSM page, plus one per
 * chain), all records of one size in linear memory (live().metadataBytes). The kernel keeps a 64-byte
 * rmap_item per tracked page and a 64-byte stable_node per KSM page and chain; its figure on the
 * same state is computed beside ours. Page tables are not counted on either side (the engine's
 * page-table entry is 8 bytes per guest page: 4 of PTE, 4 of rmap item address).
 *
 * Linear memory: WebAssembly memory never shrinks, so memory.size after loading the guests is
 * what a host must be able to give; frames in use after merging are what merging saves.
 * First-touch cost: on this VM a 4 KiB page of memory touched for the first time costs a page
 * fault, measured here because it dominates loading guests.
 */
import { median, round, stopwatch, type Context, type Row } from './lib.js';
import { runWorkload } from './run.js';
import { ORACLE_WORKLOADS } from './scans.js';
import { KERNEL_RMAP_ITEM_SIZE as KERNEL_RECORD } from '../src/stats.js';
import { clones, PAGE } from './workloads.js';

export async function memory(ctx: Context): Promise<void> {
  const rows: Row[] = [];
  let worst = 0;
  let recordBytes = 0;
  for (const w of ORACLE_WORKLOADS()) {
    const run = await runWorkload('wasm', w, { passes: 3 });
    const s = run.passes[run.passes.length - 1].stats;
    const items = run.rmapItems;
    const nodes = s.pagesShared + s.stableNodeChains;
    const perPage = run.live.metadataBytes / items;
    worst = Math.max(worst, perPage);
    const kernel = (KERNEL_RECORD * (items + nodes)) / items;
    const record = run.live.metadataBytes / (items + nodes); // 32: rmap items and stable nodes alike
    ctx.figure(`memory.${w.name}.metadataBytesPerTrackedPage`, perPage);
    ctx.figure('memory.rmapItemBytes', record);
    recordBytes = record;
    rows.push({
      workload: w.name, 'tracked pages (rmap items)': items, 'stable nodes + chains': nodes,
      'metadata bytes': run.live.metadataBytes, 'bytes per tracked page': round(perPage),
      'rmap items B/page': round(record), 'stable nodes B/page': round((record * nodes) / items), 'kernel on the same state': round(kernel), 'kernel ÷ engine': `${round(kernel / perPage)}×`,
    });
  }
  ctx.figure('memory.metadataBytesPerTrackedPage.max', worst);
  ctx.table(`Metadata per tracked page after the merge state settled (wasm engine; ${round(recordBytes)}-byte records)`, rows);

  // Linear memory per GiB of guest pages (cloned guests, as they load and after merging).
  const sizes = ctx.quick ? [16384] : [16384, 65536];
  const memRows: Row[] = [];
  for (const pages of sizes) {
    const run = await runWorkload('wasm', clones(pages), { passes: 3 });
    const guestGiB = (pages * PAGE) / 2 ** 30;
    const perGiB = (bytes: number) => round(bytes / guestGiB / 2 ** 20);
    ctx.figure(`memory.clones${pages}.linearMiBPerGuestGiB`, run.liveAfterLoad.memoryBytes / guestGiB / 2 ** 20);
    memRows.push({
      'guest MiB': (pages * PAGE) / 2 ** 20,
      'linear memory MiB per guest GiB (after load)': perGiB(run.liveAfterLoad.memoryBytes),
      'frames in use MiB per guest GiB (after merging)': perGiB(run.live.framesInUse * PAGE),
      'metadata MiB per guest GiB': perGiB(run.live.metadataBytes),
      'memory.size after merging MiB': round(run.live.memoryBytes / 2 ** 20),
    });
  }
  ctx.table('Linear memory per GiB of guest pages (cloned guests; memory.size never shrinks)', memRows);

  // What touching fresh memory costs here (it dominates loading guests on this VM).
  const pages = ctx.quick ? 2048 : 8192;
  const samples: number[] = [];
  const warm: number[] = [];
  for (let r = 0; r < 3; r++) {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 + (pages * PAGE) / 65536 });
    mem.grow((pages * PAGE) / 65536);
    const bytes = new Uint8Array(mem.buffer);
    let t = stopwatch();
    for (let p = 1; p <= pages; p++) bytes[p * PAGE + 1] = 1;
    samples.push((t() * 1000) / pages);
    t = stopwatch();
    for (let p = 1; p <= pages; p++) bytes[p * PAGE + 2] = 1;
    warm.push((t() * 1000) / pages);
  }
  const firstTouch = median(samples);
  ctx.figure('memory.firstTouchMicrosPer4KiB', firstTouch);
  ctx.table('Touching linear memory (one byte per 4 KiB page)', [
    { what: 'first touch of freshly grown memory (a page fault)', 'µs per 4 KiB page': round(firstTouch) },
    { what: 'the same pages again', 'µs per 4 KiB page': round(median(warm)) },
  ]);
  ctx.note('Loading a guest writes fresh memory, so its cost per page is at least the first-touch cost above; scans reuse freed frames.');
}
