/**
 * Reads run.ts's JSON and prints it for people: per scenario, every full scan and every batch
 * where a page changed class (other than plain merges), with the counters, each process's
 * ksm_stat, its page classes and which pages moved from one class to another.
 *
 *   node --import tsx tests/conformance/thp/summarize.ts thp.json [SCENARIO]
 */
import { readFileSync } from 'node:fs';

interface Space { role: string; ksm_rmap_items: number; ksm_merging_pages: number; ksm_zero_pages: number; pmdMapped: number; classes: Record<string, number>; changes?: Record<string, string>; samePfnAsParent?: number }
interface Observation { at: string; counters: Record<string, number>; vmstat: Record<string, number>; khugepagedCollapsed: number; spaces: Space[]; khugepaged?: unknown }
interface Result { name: string; question: string; seconds: number; khugepaged: string; observations: Observation[] }

const [file, only] = process.argv.slice(2);
if (!file) { process.stderr.write('usage: summarize.ts THP.json [SCENARIO]\n'); process.exit(2); }
const doc = JSON.parse(readFileSync(file, 'utf8')) as { scenarios: Result[] };
const nonZero = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).filter(([, v]) => v));

for (const s of doc.scenarios.filter((x) => !only || x.name === only)) {
  console.log(`## ${s.name} (${s.seconds} s, khugepaged ${s.khugepaged})\n${s.question}`);
  for (const o of s.observations) {
    const moved = o.spaces.some((x) => x.changes && Object.keys(x.changes).some((k) => k !== 'anon>ksm'));
    if (o.at.startsWith('batch') && !moved) continue;
    const c = o.counters;
    console.log(`${o.at}: shared ${c.pages_shared} sharing ${c.pages_sharing} unshared ${c.pages_unshared} volatile ${c.pages_volatile} ksm_zero ${c.ksm_zero_pages} | vmstat ${JSON.stringify(nonZero(o.vmstat))}${o.khugepaged ? ` | khugepaged ${JSON.stringify(o.khugepaged)}` : ''}`);
    for (const x of o.spaces) {
      const fork = x.samePfnAsParent === undefined ? '' : ` same PFN as parent ${x.samePfnAsParent}`;
      console.log(`   ${x.role}: rmap ${x.ksm_rmap_items} merging ${x.ksm_merging_pages} zero ${x.ksm_zero_pages} pmd-mapped ${x.pmdMapped} ${JSON.stringify(nonZero(x.classes))}${x.changes && Object.keys(x.changes).length ? ` moved ${JSON.stringify(x.changes)}` : ''}${fork}`);
    }
  }
}
