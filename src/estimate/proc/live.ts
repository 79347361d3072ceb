/**
 * Live processes as address spaces, exactly as ksmd would see them: for each process (in the order
 * given, which is taken as the order they registered with KSM) the mappings ksmd visits
 * (mappings.ts), the present anonymous pages there (pagemap.ts), frames shared with an earlier
 * process after a fork (forks.ts); the pages are read later, when the engine loads the space.
 */
import { openSync, readFileSync } from 'node:fs';
import { CliError } from '../../cli/errors.js';
import type { ImageSource } from '../source.js';
import type { LiveFacts } from './facts.js';
import { placePages, type Placement } from './forks.js';
import { Freezer } from './freeze.js';
import { isMergeable, parseSmaps, visitedMappings, type MergeQuestion } from './mappings.js';
import { changedSince, closeQuietly, openKpageflags, PAGE_SIZE, walkPages, type PageSet } from './pagemap.js';
import { PermissionDenied, procError, ProcessGone } from './errors.js';
import { readPages } from './read.js';
import { ReadProgress } from './progress.js';
import { readStat, type ProcStat } from './stat.js';

export interface LiveOptions {
  question: MergeQuestion;
  freeze: boolean;
  /** Whole-host mode (--all, --cgroup): processes that cannot be read are left out and counted, not refused. */
  host: boolean;
  /** One line per remark (a process left out, a note on exactness). */
  note: (line: string) => void;
}

/** A live process as a source of pages, with its facts for the output. */
export interface LiveSource extends ImageSource {
  readonly live: LiveFacts;
}

interface Walked { stat: ProcStat; set: PageSet; frozen: boolean }

/** Opens the processes: every check and every page-map walk happens here, before anything is read. */
export function openLiveProcesses(pids: readonly number[], options: LiveOptions): LiveSource[] {
  const freezer = options.freeze ? new Freezer() : undefined;
  if (freezer) process.once('exit', () => freezer.close()); // an error anywhere later: nothing stays stopped
  const kpageflags = openKpageflags();
  const walked: Walked[] = [];
  const left = { gone: 0, kernel: 0, zombie: 0, denied: 0, unmerged: 0 };
  const unmergedNotes: string[] = [];
  try {
    for (const pid of pids) {
      const w = walkProcess(pid, options, freezer, kpageflags, left, unmergedNotes);
      if (w) walked.push(w);
    }
  } catch (error) {
    for (const w of walked) if (w.frozen) freezer?.resume(w.stat.pid);
    freezer?.close();
    throw error;
  } finally {
    closeQuietly(kpageflags);
  }
  summarizeLeftOut(left, options);
  if (walked.length === 0) {
    freezer?.close();
    // One process with nothing to scan: its own line is the error.
    throw new CliError('input', options.host ? 'no process to estimate (every one was left out, see above)' : unmergedNotes.join('; ') || 'no process to estimate');
  }
  unmergedNotes.forEach((line) => options.note(line));
  if (kpageflags === undefined) options.note('not root: /proc/kpageflags and page frame numbers are not readable, so each page set is an upper bound (the shared zero page and page-cache pages cannot be told from anonymous pages; "exact": false)');
  const placements = placePages(walked.map((w) => w.set));
  const progress = new ReadProgress(walked.reduce((n, w, i) => n + placements[i].write.length, 0));
  const sources: LiveSource[] = [];
  walked.forEach((w, i) => sources.push(liveSource(w, placements[i], sources, options, freezer, progress, i === walked.length - 1)));
  return sources;
}

/** Checks, maybe freezes, and walks one process; undefined if it is left out (host mode, or no mergeable mapping). */
function walkProcess(pid: number, options: LiveOptions, freezer: Freezer | undefined, kpageflags: number | undefined,
  left: Record<'gone' | 'kernel' | 'zombie' | 'denied' | 'unmerged', number>, unmergedNotes: string[]): Walked | undefined {
  const stat = readStat(pid);
  const refuse = (why: string, key: keyof typeof left): undefined => {
    if (!options.host) throw new CliError('input', `pid ${pid}: ${why}`);
    left[key]++;
    return undefined;
  };
  if (!stat) return refuse('no such process', 'gone');
  if (stat.kernelThread) return refuse(`a kernel thread (${stat.comm}): it has no memory of its own to estimate`, 'kernel');
  if (stat.state === 'Z' || stat.state === 'X') return refuse(`a zombie (${stat.comm}): it has exited and has no memory left`, 'zombie');
  const frozen = freezer?.stop(pid) ?? false;
  if (options.freeze && !frozen && !options.host) {
    const why = freezer?.refusal(pid);
    options.note(`pid ${pid} (${stat.comm}): not frozen: ${why ?? 'it was already stopped and stays so'}`);
  }
  try {
    const mappings = parseSmaps(readText(pid, 'smaps'));
    if (options.question === 'mergeable' && !mappings.some(isMergeable)) {
      if (!options.host) unmergedNotes.push(`pid ${pid} (${stat.comm}): no mapping is marked mergeable, so KSM would not scan it; --merge-any estimates what it would give if it opted in (prctl PR_SET_MEMORY_MERGE)`);
      left.unmerged++;
      if (frozen) freezer!.resume(pid);
      return undefined;
    }
    const fd = openProc(pid, 'pagemap');
    try {
      return { stat, set: walkPages(fd, visitedMappings(mappings, options.question), kpageflags), frozen };
    } finally {
      closeQuietly(fd);
    }
  } catch (error) {
    if (frozen) freezer!.resume(pid);
    const gone = error instanceof ProcessGone || isGone(pid, stat);
    if (options.host && (gone || error instanceof PermissionDenied)) return refuse('', gone ? 'gone' : 'denied');
    if (gone) throw new CliError('input', `pid ${pid} (${stat.comm}): exited while its page map was read`);
    throw error instanceof CliError ? error : procError(pid, 'pagemap', error);
  }
}

/** The source: the engine calls read() when it loads the space; the process is read then (and resumed). */
function liveSource(w: Walked, place: Placement, earlier: readonly LiveSource[], options: LiveOptions,
  freezer: Freezer | undefined, progress: ReadProgress, last: boolean): LiveSource {
  const { stat, set } = w;
  const live: LiveFacts = {
    pid: stat.pid, comm: stat.comm, question: options.question, exact: set.exact,
    ksmPages: set.ksmPages, thpPages: set.thpPages, zeroPageMapped: set.zeroPageMapped, notAnonymous: set.notAnonymous, swapped: set.swapped,
    forkOf: place.parent === undefined ? undefined : earlier[place.parent].live.pid, sharedWithParent: place.sharedWithParent,
    changedPages: undefined, unreadablePages: 0, frozen: w.frozen, exited: false, addresses: set.addresses, pageFlags: set.flags,
  };
  const source: LiveSource = {
    name: `pid ${stat.pid} (${stat.comm})`,
    get pages() { return live.exited ? 0 : set.addresses.length; },
    spacePages: place.spacePages,
    hugeSpans: place.hugeSpans,
    forkOf: place.parent === undefined ? undefined : earlier[place.parent],
    dropPages: place.drop,
    live,
    read(sink) {
      try {
        readProcess(w, place, live, sink, progress);
      } catch (error) {
        if (!(error instanceof ProcessGone) || !options.host) throw error;
        live.exited = true;
        // counted in the table's notes (liveNotes), not one line each
      } finally {
        if (w.frozen) freezer!.resume(stat.pid);
        if (last) { freezer?.close(); progress.done(); }
      }
    },
  };
  return source;
}

function readProcess(w: Walked, place: Placement, live: LiveFacts, sink: (chunk: Uint8Array, page?: number) => void, progress: ReadProgress): void {
  const { stat, set } = w;
  if (isGone(stat.pid, stat)) throw new ProcessGone(`pid ${stat.pid} (${stat.comm}): exited before its pages were read`);
  const mem = openProc(stat.pid, 'mem');
  try {
    const result = readPages(mem, set.addresses, place.write, (chunk, first) => placeRun(chunk, first, place.index, sink), (n) => progress.add(n, stat.pid));
    live.unreadablePages = result.unreadable;
  } finally {
    closeQuietly(mem);
  }
  if (live.unreadablePages > 0 && isGone(stat.pid, stat)) throw new ProcessGone(`pid ${stat.pid} (${stat.comm}): exited while its pages were read`);
  if (!w.frozen) {
    const fd = openProc(stat.pid, 'pagemap');
    try { live.changedPages = changedSince(fd, set); } finally { closeQuietly(fd); }
  }
}

/** Hands a run of pages read at consecutive addresses to the sink, cut where their places in the space jump (a huge page's aligned span). */
function placeRun(chunk: Uint8Array, first: number, index: ArrayLike<number>, sink: (chunk: Uint8Array, page?: number) => void): void {
  const pages = chunk.length / PAGE_SIZE;
  let start = 0;
  for (let k = 1; k <= pages; k++) {
    if (k < pages && index[first + k] === index[first + k - 1] + 1) continue;
    sink(chunk.subarray(start * PAGE_SIZE, k * PAGE_SIZE), index[first + start]);
    start = k;
  }
}

/** Exited, a zombie now, or the PID names another process. */
function isGone(pid: number, was: ProcStat): boolean {
  const now = readStat(pid);
  return !now || now.startTime !== was.startTime || now.state === 'Z' || now.state === 'X';
}

function summarizeLeftOut(left: Record<string, number>, options: LiveOptions): void {
  if (!options.host) return;
  const parts = [
    left.unmerged && `${left.unmerged} with no mapping marked mergeable (KSM would not scan them; --merge-any asks what they would give if they opted in)`,
    left.kernel && `${left.kernel} kernel threads`,
    left.zombie && `${left.zombie} zombies`,
    left.gone && `${left.gone} that exited before they were read`,
    left.denied && `${left.denied} not readable (permission denied)`,
  ].filter(Boolean);
  if (parts.length) options.note(`left out: ${parts.join(', ')}`);
}

function readText(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch (error) {
    throw procError(pid, file, error);
  }
}

function openProc(pid: number, file: string): number {
  try {
    return openSync(`/proc/${pid}/${file}`, 'r');
  } catch (error) {
    throw procError(pid, file, error);
  }
}
