/**
 * The table's part for live processes: each process's page set (what was passed over, what the real
 * KSM had merged, huge pages, frames shared after fork, pages that changed while read), and, when
 * there are many processes, one row per command name.
 */
import type { SpaceRecord } from '../run.js';
import type { LiveFacts } from './facts.js';

/** More processes than this: the per-space table groups them by command name. */
export const GROUP_ABOVE = 12;

type Row = { name: string; pages: number; stat: SpaceRecord; live?: LiveFacts };

/** Rows of the per-space table: one per space, or one per command name when there are many live ones. */
export function spaceRows(rows: Row[], bytes: (n: number) => string): string[][] {
  const shown = rows.filter((r) => !r.live?.exited);
  const live = shown.filter((r) => r.live).length;
  const head = ['space', 'pages', 'rmap_items', 'merging', 'zero', 'process_profit'];
  if (live <= GROUP_ABOVE) {
    return [head, ...shown.map((r) => [r.name, String(r.pages), String(r.stat.ksmRmapItems), String(r.stat.ksmMergingPages), String(r.stat.ksmZeroPages), bytes(r.stat.ksmProcessProfit)])];
  }
  const groups = new Map<string, { n: number; pages: number; rmap: number; merging: number; zero: number; profit: number }>();
  for (const r of shown) {
    const key = r.live ? r.live.comm : r.name;
    const g = groups.get(key) ?? { n: 0, pages: 0, rmap: 0, merging: 0, zero: 0, profit: 0 };
    g.n++; g.pages += r.pages; g.rmap += r.stat.ksmRmapItems; g.merging += r.stat.ksmMergingPages; g.zero += r.stat.ksmZeroPages; g.profit += r.stat.ksmProcessProfit;
    groups.set(key, g);
  }
  const sorted = [...groups].sort((a, b) => b[1].merging - a[1].merging || b[1].pages - a[1].pages);
  return [['command (processes)', 'pages', 'rmap_items', 'merging', 'zero', 'process_profit'],
    ...sorted.map(([comm, g]) => [`${comm} (${g.n})`, String(g.pages), String(g.rmap), String(g.merging), String(g.zero), bytes(g.profit)])];
}

/** Lines under the table about the live processes' page sets (none for images). */
export function liveNotes(facts: Array<LiveFacts | undefined>): string[] {
  const live = facts.filter((f): f is LiveFacts => f !== undefined);
  if (live.length === 0) return [];
  const sum = (f: (l: LiveFacts) => number) => live.reduce((n, l) => n + f(l), 0);
  const shown = live.filter((l) => !l.exited);
  const out = [
    `Live processes: ${shown.length} read (${live[0].question === 'merge-any' ? 'every KSM-compatible mapping, as if each opted in now (--merge-any)' : 'the mappings marked mergeable, what KSM does with them once run=1'}).`,
    `  passed over as ksmd would: ${sum((l) => l.zeroPageMapped)} pages on the shared zero page, ${sum((l) => l.notAnonymous)} page-cache pages, ${sum((l) => l.swapped)} swapped out;` +
      ` read: ${sum((l) => l.ksmPages)} pages the real KSM had already merged (read by contents, estimated from scratch), ${sum((l) => l.thpPages)} in transparent huge pages.`,
  ];
  const forks = shown.filter((l) => l.forkOf !== undefined);
  if (forks.length) out.push(`  after fork: ${forks.map((l) => `pid ${l.pid} shares ${l.sharedWithParent} frames with pid ${l.forkOf}`).join(', ')} (one frame mapped twice: ksmd never merges a page with itself).`);
  const inexact = shown.filter((l) => !l.exact).length;
  if (inexact) out.push(`  UPPER BOUND: ${inexact} page set${inexact === 1 ? ' is' : 's are'} not exact (no page frame numbers: not root), so zero-page and page-cache mappings were counted as pages.`);
  const changed = shown.filter((l) => l.changedPages !== undefined);
  if (changed.length) out.push(`  not frozen: ${sum((l) => l.changedPages ?? 0)} pages changed between the page-map walk and the read (--freeze stops each process while it is read).`);
  const unreadable = sum((l) => l.unreadablePages);
  if (unreadable) out.push(`  ${unreadable} pages could not be read (gone by then) and were read as zeros.`);
  const exited = live.length - shown.length;
  if (exited) out.push(`  ${exited} process${exited === 1 ? '' : 'es'} exited before being read and ${exited === 1 ? 'is' : 'are'} left out.`);
  return out;
}
