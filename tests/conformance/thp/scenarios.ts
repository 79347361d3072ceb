/**
 * The THP experiments: small processes whose memory is in transparent huge pages, each built to
 * answer one question about what ksmd does with them (docs/thp.md has the answers).
 * Guest specs are thp_guest.c's: runs of z (zero), u (unique), a-t (content classes), 512 a huge page.
 */
export interface GuestSpec { spec: string; fork?: boolean; nohuge?: boolean }

export interface Scenario {
  name: string;
  question: string;
  guests: GuestSpec[];
  /** KSM knobs for the run (sleep_millisecs is the stepper's). */
  knobs: Partial<Record<'pages_to_scan' | 'use_zero_pages' | 'smart_scan', number>>;
  /** Full scans to run. */
  passes: number;
  /** Observe after every batch (with pages_to_scan 1: after every page), not only every full scan. */
  perBatch?: boolean;
  /** After the last pass, leave ksmd stopped (run=0) this long, then observe again (khugepaged). */
  idleAfterMs?: number;
  /** khugepaged paused during the run (the default: what ksmd alone does), or as this machine has it. */
  khugepaged?: 'paused' | 'as configured';
}

export const SCENARIOS: Scenario[] = [
  {
    name: 'unique',
    question: 'Q1: one huge page of unique pages: visited per subpage, checksummed, put in the unstable tree, never split?',
    guests: [{ spec: 'u512' }],
    knobs: { pages_to_scan: 100 },
    passes: 3,
  },
  {
    name: 'cross-pair',
    question: 'Q2: which huge pages split, and when, at an unstable-tree match (P2 with P1) and at a stable-tree match (P3)?',
    guests: [{ spec: 'u100,a1,u411' }, { spec: 'u100,a1,u411' }, { spec: 'u100,a1,u411' }],
    knobs: { pages_to_scan: 1 },
    passes: 3,
    perBatch: true,
  },
  {
    name: 'dup-within',
    question: 'Q2: two equal non-zero pages in one huge page: does the failed merge (same compound page) split it, and when do they merge?',
    guests: [{ spec: 'u100,a1,u100,a1,u310' }],
    knobs: { pages_to_scan: 1 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'zero-within',
    question: 'Q3: zero subpages inside one huge page, use_zero_pages=0: who splits it and where do its zero subpages go?',
    guests: [{ spec: 'u100,z100,u100,z212' }],
    knobs: { pages_to_scan: 1, use_zero_pages: 0 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'zero-within-uzp',
    question: 'Q3: the same with use_zero_pages=1.',
    guests: [{ spec: 'u100,z100,u100,z212' }],
    knobs: { pages_to_scan: 1, use_zero_pages: 1 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'zero-cross',
    question: 'Q2/Q3: one zero subpage per huge page in two processes (use_zero_pages=0): a zero page meets a zero page of another huge page.',
    guests: [{ spec: 'u100,z1,u411' }, { spec: 'u100,z1,u411' }],
    knobs: { pages_to_scan: 1, use_zero_pages: 0 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'zero-cross-uzp',
    question: 'Q2/Q3: the same with use_zero_pages=1: does the zero-page merge split, and is ksm_zero_pages counted?',
    guests: [{ spec: 'u100,z1,u411' }, { spec: 'u100,z1,u411' }],
    knobs: { pages_to_scan: 1, use_zero_pages: 1 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'zero-stable',
    question: 'Q2/Q3: a zero subpage of a huge page meets a zero KSM page in the stable tree (made by a 4 KiB-page process first).',
    guests: [{ spec: 'z2', nohuge: true }, { spec: 'u100,z1,u411' }],
    knobs: { pages_to_scan: 1, use_zero_pages: 0 },
    passes: 3,
    perBatch: true,
  },
  {
    name: 'mixed-settle',
    question: 'Q3/Q4: a guest-like mix in three processes, default batch size, settled; then ksmd stopped for 25 s (khugepaged, shrinker).',
    guests: [
      { spec: 'a20,u50,z400,b42,c512,u100,z300,a112,z512,u512' },
      { spec: 'a20,u50,z400,b42,c512,u100,z300,a112,z512,u512' },
      { spec: 'a20,u60,z390,b42,c512,u200,z200,a112,z512,u512' },
    ],
    knobs: { pages_to_scan: 100 },
    passes: 6,
    idleAfterMs: 25_000,
  },
  {
    name: 'mixed-khugepaged',
    question: 'Q4: the same with khugepaged running as configured: does it collapse split ranges (KSM pages included) back, during and after settling?',
    guests: [
      { spec: 'a20,u50,z400,b42,c512,u100,z300,a112,z512,u512' },
      { spec: 'a20,u50,z400,b42,c512,u100,z300,a112,z512,u512' },
      { spec: 'a20,u60,z390,b42,c512,u200,z200,a112,z512,u512' },
    ],
    knobs: { pages_to_scan: 100 },
    passes: 12,
    idleAfterMs: 25_000,
    khugepaged: 'as configured',
  },
  {
    name: 'fork',
    question: 'Q5: a huge page shared by parent and child after fork (PMD-mapped in both), with a duplicate pair and zero subpages.',
    guests: [{ spec: 'u100,a1,u100,a1,u100,z210', fork: true }],
    knobs: { pages_to_scan: 1 },
    passes: 4,
    perBatch: true,
  },
  {
    name: 'fork-unique',
    question: 'Q5: a forked huge page of unique pages only: does the same-page abort split anything?',
    guests: [{ spec: 'u512', fork: true }],
    knobs: { pages_to_scan: 100 },
    passes: 3,
  },
];
