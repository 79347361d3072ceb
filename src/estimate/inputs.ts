/**
 * Opens the inputs in the order they were given: image files (raw or ELF core), live processes
 * and built-in scenarios. Every input is checked before anything is scanned.
 */
import { isElf, openElfCore } from './elf.js';
import { allProcesses, cgroupProcesses, openLiveProcesses, parsePid, type MergeQuestion } from './proc/index.js';
import { openRawImage, statImage } from './raw.js';
import { openScenario } from './scenarios.js';
import type { ImageSource } from './source.js';

export type InputSpec =
  | { kind: 'image'; path: string }
  | { kind: 'pid'; text: string }
  | { kind: 'all' }
  | { kind: 'cgroup'; path: string }
  | { kind: 'scenario'; name: string };

/** How live processes are read (--merge-any, --freeze). */
export interface LiveSettings { question: MergeQuestion; freeze: boolean }

const LIVE_KINDS = new Set(['pid', 'all', 'cgroup']);

/**
 * Live processes are opened together (frames shared after a fork are found across them) and keep
 * their places among the other inputs.
 */
export function openInputs(specs: readonly InputSpec[], live: LiveSettings = { question: 'mergeable', freeze: false }): ImageSource[] {
  const pids = specs.flatMap((spec) => {
    if (spec.kind === 'pid') return [parsePid(spec.text)];
    if (spec.kind === 'all') return allProcesses();
    if (spec.kind === 'cgroup') return cgroupProcesses(spec.path);
    return [];
  });
  const host = specs.some((spec) => spec.kind === 'all' || spec.kind === 'cgroup');
  const processes = pids.length ? openLiveProcesses([...new Set(pids)], { ...live, host, note: (line) => process.stderr.write(`ksm-wasm estimate: ${line}\n`) }) : [];
  let livePlaced = false;
  return specs.flatMap((spec): ImageSource[] => {
    if (LIVE_KINDS.has(spec.kind)) {
      if (livePlaced) return [];
      livePlaced = true;
      return processes;
    }
    switch (spec.kind) {
      case 'image': return [openImage(spec.path)];
      case 'scenario': return openScenario(spec.name);
      default: return [];
    }
  });
}

/** A file: an ELF core if it starts with the ELF magic, else a raw image. */
export function openImage(path: string): ImageSource {
  const size = statImage(path);
  return isElf(path, size) ? openElfCore(path, size) : openRawImage(path, size);
}
