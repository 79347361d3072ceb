/**
 * What the output says about a live process beside its ksm_stat: which process, whether its page
 * set is exact, what was passed over, what the real KSM had already merged, what changed.
 */
import type { MergeQuestion } from './mappings.js';

export interface LiveFacts {
  pid: number;
  comm: string;
  question: MergeQuestion;
  /** False when the page set is an upper bound (no PFNs: not root). */
  exact: boolean;
  /** Pages the real KSM had already merged (read by contents; the estimate starts from scratch). */
  ksmPages: number;
  /** Pages inside transparent huge pages. */
  thpPages: number;
  /** Present pages passed over: the shared zero page, page-cache pages never copied; swapped out. */
  zeroPageMapped: number;
  notAnonymous: number;
  swapped: number;
  /** The earlier process whose frames this one shares (a fork), and how many pages. */
  forkOf: number | undefined;
  sharedWithParent: number;
  /** Pages whose mapping changed between the page-map walk and the read (undefined while frozen or not yet read). */
  changedPages: number | undefined;
  /** Pages that could not be read (went away): read as zeros. */
  unreadablePages: number;
  frozen: boolean;
  /** The process exited (or its PID was reused) before its pages were read: its space stays empty. */
  exited: boolean;
  /** The pages' virtual addresses, ascending (for 2 MiB alignment of huge pages). */
  addresses: Float64Array;
  /** Per page, PAGE_KSM / PAGE_THP bits (pagemap.ts), when known. */
  pageFlags: Uint8Array | undefined;
}
