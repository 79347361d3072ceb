/**
 * The knobs of /sys/kernel/mm/ksm: names, defaults and the kernel's validation. camelCase in the
 * API, the kernel's file names in the sysfs view (`SYSFS_KNOB_NAMES`).
 */
import { KsmError } from './errors.js';
import {
  DEFAULT_MAX_PAGE_SHARING, DEFAULT_PAGES_TO_SCAN, DEFAULT_SLEEP_MILLISECS, DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
} from './generated/core-abi.js';

export type AdvisorMode = 'none' | 'scan-time';

export interface Knobs {
  /** 0 stops ksmd (merges stay), 1 runs it, 2 unmerges everything and stops. */
  run: 0 | 1 | 2;
  /** Pages processed per batch. Refused (EINVAL) while advisorMode is scan-time. */
  pagesToScan: number;
  /** Pause between batches, ms. */
  sleepMillisecs: number;
  /** Most rmap items per KSM page (≥ 2). Changing it needs pages_shared == 0 (EBUSY). */
  maxPageSharing: number;
  /** 0 or 1. Same EBUSY rule as maxPageSharing. The engine models one NUMA node. */
  mergeAcrossNodes: 0 | 1;
  /** 0 or 1: merge all-zero pages into the zero page instead of a KSM page. */
  useZeroPages: 0 | 1;
  /** 0 or 1: skip pages that keep failing to merge (their age). */
  smartScan: 0 | 1;
  /** Minimum ms between full walks of one chain's dups. */
  stableNodeChainsPruneMillisecs: number;
  /** 'none' or 'scan-time' (the advisor sets pagesToScan after each full scan). */
  advisorMode: AdvisorMode;
  advisorMaxCpu: number;
  advisorMinPagesToScan: number;
  advisorMaxPagesToScan: number;
  /** Target seconds per full scan (≥ 1). */
  advisorTargetScanTime: number;
}

export type KnobName = keyof Knobs;

export const DEFAULT_KNOBS: Readonly<Knobs> = Object.freeze({
  run: 0,
  pagesToScan: DEFAULT_PAGES_TO_SCAN,
  sleepMillisecs: DEFAULT_SLEEP_MILLISECS,
  maxPageSharing: DEFAULT_MAX_PAGE_SHARING,
  mergeAcrossNodes: 1,
  useZeroPages: 0,
  smartScan: 1,
  stableNodeChainsPruneMillisecs: DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS,
  advisorMode: 'none',
  advisorMaxCpu: 70,
  advisorMinPagesToScan: 500,
  advisorMaxPagesToScan: 30000,
  advisorTargetScanTime: 200,
});

/** The kernel's file name of each knob. */
export const SYSFS_KNOB_NAMES = Object.freeze({
  run: 'run',
  pagesToScan: 'pages_to_scan',
  sleepMillisecs: 'sleep_millisecs',
  maxPageSharing: 'max_page_sharing',
  mergeAcrossNodes: 'merge_across_nodes',
  useZeroPages: 'use_zero_pages',
  smartScan: 'smart_scan',
  stableNodeChainsPruneMillisecs: 'stable_node_chains_prune_millisecs',
  advisorMode: 'advisor_mode',
  advisorMaxCpu: 'advisor_max_cpu',
  advisorMinPagesToScan: 'advisor_min_pages_to_scan',
  advisorMaxPagesToScan: 'advisor_max_pages_to_scan',
  advisorTargetScanTime: 'advisor_target_scan_time',
} as const satisfies Record<KnobName, string>);

export type SysfsKnobName = (typeof SYSFS_KNOB_NAMES)[KnobName];

/** A knob by either of its names: camelCase (the API's) or the kernel's file name. A typo does not compile. */
export type AnyKnobName = KnobName | SysfsKnobName;

/** What a knob write takes: a typed value, or the text a write to the sysfs file would carry. */
export type KnobValue = number | string | boolean;

/** Knob writes, by camelCase name with typed values or by sysfs file name with what a write would take. */
export type KnobWrites = Partial<Knobs> | Partial<Record<SysfsKnobName, KnobValue>>;

const KNOB_BY_SYSFS_NAME = new Map<string, KnobName>(
  Object.entries(SYSFS_KNOB_NAMES).map(([camel, file]) => [file, camel as KnobName]),
);

/** Accepts a knob's camelCase or sysfs name; EINVAL for anything else. */
export function knobName(name: string): KnobName {
  if (Object.hasOwn(SYSFS_KNOB_NAMES, name)) return name as KnobName;
  const known = KNOB_BY_SYSFS_NAME.get(name);
  if (known) return known;
  throw new KsmError('EINVAL', `unknown knob "${name}" (known: ${[...KNOB_BY_SYSFS_NAME.keys()].join(', ')})`);
}

/** The largest value the kernel's unsigned int knobs take. */
const UINT_MAX = 0xffffffff;

/** What the kernel's kstrtoint family takes in base 10: an optional sign, digits, one optional newline. */
const DECIMAL = /^[+-]?\d+\n?$/;

function parseInteger(name: string, value: unknown, min: number, max: number): number {
  const n = typeof value === 'string' ? (DECIMAL.test(value) ? Number(value) : NaN) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    throw new KsmError('EINVAL', `${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n === 0 ? 0 : n; // no -0
}

/** The kernel's kstrtobool: y/Y/t/T/1 and on are true, n/N/f/F/0 and off false; or a boolean, or 0/1. */
function parseBool(name: string, value: unknown): 0 | 1 {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value === 0 || value === 1) return value;
  if (typeof value === 'string') {
    const [first, second] = [value[0] ?? '', (value[1] ?? '').toLowerCase()];
    if ('yYtT1'.includes(first) && first !== '') return 1;
    if ('nNfF0'.includes(first) && first !== '') return 0;
    if ((first === 'o' || first === 'O') && second === 'n') return 1;
    if ((first === 'o' || first === 'O') && second === 'f') return 0;
  }
  throw new KsmError('EINVAL', `${name} takes 0 or 1 (or y/n, on/off), got ${JSON.stringify(value)}`);
}

/**
 * Checks a value as the kernel's store function would, and returns it in the knob's type.
 * Rules that depend on state (EBUSY, pages_to_scan under the advisor) are the driver's.
 */
export function validateKnob<K extends KnobName>(name: K, value: unknown): Knobs[K] {
  const file = SYSFS_KNOB_NAMES[name];
  switch (name) {
    case 'run': return parseInteger(file, value, 0, 2) as Knobs[K];
    case 'mergeAcrossNodes': return parseInteger(file, value, 0, 1) as Knobs[K];
    case 'useZeroPages':
    case 'smartScan': return parseBool(file, value) as Knobs[K];
    case 'maxPageSharing': return parseInteger(file, value, 2, 0x7fffffff) as Knobs[K];
    case 'pagesToScan':
    case 'sleepMillisecs':
    case 'stableNodeChainsPruneMillisecs':
    case 'advisorMaxCpu':
    case 'advisorMinPagesToScan':
    case 'advisorMaxPagesToScan': return parseInteger(file, value, 0, UINT_MAX) as Knobs[K];
    case 'advisorTargetScanTime': return parseInteger(file, value, 1, UINT_MAX) as Knobs[K];
    case 'advisorMode': {
      const mode = typeof value === 'string' ? value.trim() : value;
      if (mode !== 'none' && mode !== 'scan-time') {
        throw new KsmError('EINVAL', `advisor_mode must be "none" or "scan-time", got ${JSON.stringify(value)}`);
      }
      return mode as Knobs[K];
    }
  }
  throw new KsmError('EINVAL', `unknown knob "${String(name)}"`);
}
