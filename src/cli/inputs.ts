/**
 * The one input loader of the commands: an image file (an ELF core if it starts with the ELF magic,
 * else a raw image of 4096-byte pages), a live process (--pid) or a built-in scenario
 * (--scenario), each checked when opened (a bad one is a CliError naming it) and read later.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isElf, openElfCore } from '../estimate/elf.js';
import { allProcesses, cgroupProcesses, openLiveProcesses, parsePid, type MergeQuestion } from '../estimate/proc/index.js';
import { openRawImage, statImage } from '../estimate/raw.js';
import { openScenario } from '../estimate/scenarios.js';
import { openScaledScenario } from '../estimate/scaled.js';
import { PAGE_SIZE, type ImageSource } from '../estimate/source.js';
import { CliError } from './errors.js';

export type InputSpec =
  | { kind: 'image'; path: string }
  | { kind: 'pid'; text: string }
  | { kind: 'all' }
  | { kind: 'cgroup'; path: string }
  | { kind: 'scenario'; name: string; size?: number };

/** How live processes are read (--merge-any, --freeze). */
/** How live processes are opened; `command` names the command in their notes on stderr (default estimate). */
export interface LiveSettings { question: MergeQuestion; freeze: boolean; command?: string }

const LIVE_KINDS = new Set(['pid', 'all', 'cgroup']);

/**
 * Opens every input before anything is read. Live processes (--pid, --all, --cgroup) are opened
 * together, in the order given (frames shared after a fork are found across them), and take the
 * place of the first of them among the other inputs.
 */
export function openInputs(specs: readonly InputSpec[], live: LiveSettings = { question: 'mergeable', freeze: false }): ImageSource[] {
  const pids = specs.flatMap((spec) => {
    if (spec.kind === 'pid') return [parsePid(spec.text)];
    if (spec.kind === 'all') return allProcesses();
    if (spec.kind === 'cgroup') return cgroupProcesses(spec.path);
    return [];
  });
  const host = specs.some((spec) => spec.kind === 'all' || spec.kind === 'cgroup');
  const processes = pids.length ? openLiveProcesses([...new Set(pids)], { ...live, host, note: (line) => process.stderr.write(`ksm-wasm ${live.command ?? 'estimate'}: ${line}\n`) }) : [];
  let livePlaced = false;
  return specs.flatMap((spec): ImageSource[] => {
    if (LIVE_KINDS.has(spec.kind)) {
      if (livePlaced) return [];
      livePlaced = true;
      return processes;
    }
    switch (spec.kind) {
      case 'image': return [openImage(spec.path)];
      case 'scenario': return spec.size === undefined ? openScenario(spec.name) : openScaledScenario(spec.name, spec.size);
      default: return [];
    }
  });
}

/** A file: an ELF core if it starts with the ELF magic, else a raw image. */
export function openImage(path: string): ImageSource {
  const size = statImage(path);
  return isElf(path, size) ? openElfCore(path, size) : openRawImage(path, size);
}

/** guest0.img, guest1.img, ... of a directory (the oracle's image layout), opened in that order. */
export function openImageDirectory(dir: string, flag: string): ImageSource[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new CliError('input', `${flag} ${dir}: not a directory`);
  const sources: ImageSource[] = [];
  for (let i = 0; existsSync(join(dir, `guest${i}.img`)); i++) sources.push(openImage(join(dir, `guest${i}.img`)));
  if (sources.length === 0) throw new CliError('input', `${flag} ${dir}: no guest0.img there`);
  return sources;
}

/** A source's pages in one buffer (for inputs small enough to hold twice). */
export function readWhole(source: ImageSource): Uint8Array {
  const out = new Uint8Array(source.pages * PAGE_SIZE);
  let at = 0;
  source.read((chunk) => {
    out.set(chunk, at);
    at += chunk.length;
  });
  return out;
}
