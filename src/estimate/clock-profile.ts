/**
 * What a clock profile holds (profile.ts reads one from a file): how a host's ksmd spends time, for
 * `estimate`'s simulated_ms and ksmd_cpu_ms. Apart from the file reading so that code running in
 * browsers (the demo's estimate) can use profiles too.
 */
export const PROFILE_FORMAT = 'ksm-wasm-clock-profile';
/** 2: the cost of a merge became two, a stable-tree hit and a two-page merge (cpu.ts). */
export const PROFILE_VERSION = 2;

export interface ClockProfile {
  format: typeof PROFILE_FORMAT;
  version: typeof PROFILE_VERSION;
  /** The kernel's timer tick rate (CONFIG_HZ): sleeps are whole ticks. */
  hz: number;
  /** Ticks a sleep lasts beyond sleep_millisecs rounded up to ticks (the timer wheel never fires early: 1). */
  extraTicks: number;
  /** ms from the tick that ends a sleep to ksmd running (its wake-up latency). */
  wakeMs: number;
  /** ksmd's CPU per kind of work, µs (cpu.ts). */
  cpuUs: { batch: number; firstSight: number; cheapVisit: number; otherPage: number; stableHit: number; pairMerge: number; treeStep: number; batchTreeStep: number };
  /** Where the figures come from: host, kernel, date, the command that made them, how well they fit. */
  measured: Record<string, unknown>;
}

/** The kinds of work a profile costs, in its order (cpu.ts). */
export const CPU_KINDS = ['batch', 'firstSight', 'cheapVisit', 'otherPage', 'stableHit', 'pairMerge', 'treeStep', 'batchTreeStep'] as const;
