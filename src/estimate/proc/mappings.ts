/**
 * A live process's mappings as /proc/PID/smaps shows them, and which of them ksmd would visit.
 * The kernel decides by the VMA's flags (vma_ksm_compatible()), not by its permissions: a private
 * read-only mapping (a library's RELRO after relocation) holds anonymous pages that ksmd merges.
 */

export interface Mapping {
  start: number;
  end: number;
  /** "rw-p", "r--p", "---p"… */
  perms: string;
  /** The path, "[heap]", "[stack]", or "" for an anonymous mapping. */
  name: string;
  /** The two-letter VmFlags mnemonics ("rd", "wr", "mg"…). */
  flags: ReadonlySet<string>;
  /** smaps "Anonymous:" in KiB: anonymous pages mapped here (KSM pages included, the zero page not). */
  anonKb: number;
}

/** Which mappings the estimate reads: what KSM does now (`mg` only), or what merge-any would add. */
export type MergeQuestion = 'mergeable' | 'merge-any';

/**
 * VmFlags that make a mapping incompatible with KSM (vma_ksm_compatible()): shared or may-share,
 * PFN or I/O mappings, do-not-expand (the vDSO), hugetlb, mixed maps, droppable. DAX is a property
 * of the file and not in VmFlags; a DAX mapping of a private file has no anonymous page either.
 */
const INCOMPATIBLE = ['sh', 'ms', 'pf', 'io', 'de', 'ht', 'mm', 'dp'];

/** Parses /proc/PID/smaps (every mapping, in address order). */
export function parseSmaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  let current: { start: number; end: number; perms: string; name: string; anonKb: number } | undefined;
  for (const line of text.split('\n')) {
    const header = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+ *(.*)$/.exec(line);
    if (header) {
      current = { start: parseInt(header[1], 16), end: parseInt(header[2], 16), perms: header[3], name: header[4], anonKb: 0 };
      continue;
    }
    if (!current) continue;
    if (line.startsWith('Anonymous:')) current.anonKb = parseInt(line.slice(10), 10) || 0;
    else if (line.startsWith('VmFlags:')) {
      out.push({ ...current, flags: new Set(line.slice(8).trim().split(/\s+/)) });
      current = undefined;
    }
  }
  return out;
}

/** vma_ksm_compatible(): may ksmd ever visit this mapping? */
export function ksmCompatible(mapping: Mapping): boolean {
  return !INCOMPATIBLE.some((flag) => mapping.flags.has(flag));
}

/** VM_MERGEABLE: marked by MADV_MERGEABLE or PR_SET_MEMORY_MERGE; ksmd visits it once run=1. */
export const isMergeable = (mapping: Mapping): boolean => mapping.flags.has('mg') && ksmCompatible(mapping);

/** The mappings ksmd would visit for the question asked, in address order. */
export function visitedMappings(mappings: readonly Mapping[], question: MergeQuestion): Mapping[] {
  return mappings.filter(question === 'mergeable' ? isMergeable : ksmCompatible);
}
