/**
 * ksmtuned, as a library object: the policy Fedora and RHEL ship to decide when KSM runs and how
 * hard (the ksmtuned script and /etc/ksmtuned.conf; Dan Kenigsberg, Red Hat, 2009). Written here
 * from its documented rules, with its parameter names and defaults:
 *
 *  - Once, at start: `thres` = MemTotal × KSM_THRES_COEF / 100, at least KSM_THRES_CONST (kB);
 *    `sleep` = KSM_SLEEP_MSEC × 16 GiB / MemTotal (a 16 GiB host sleeps KSM_SLEEP_MSEC; smaller
 *    hosts sleep more, larger less), never below 10 ms; `npages` = 0.
 *  - Every KSM_MONITOR_INTERVAL seconds (the first decision after the first interval), from the
 *    memory committed to the guests and the free memory (MemFree + Buffers + Cached):
 *    - committed + thres < MemTotal and free > thres: memory is plentiful, ksmd stops (run=0);
 *      npages is kept as it was;
 *    - otherwise npages grows by KSM_NPAGES_BOOST while free < thres, or changes by
 *      KSM_NPAGES_DECAY (negative) when not, clamped to [KSM_NPAGES_MIN, KSM_NPAGES_MAX]; then
 *      pages_to_scan = npages, sleep_millisecs = sleep, and run=1.
 *
 * All arithmetic is the script's: integers in kB, divisions rounded down, comparisons strict.
 */
import { KsmError } from '../errors.js';
import type { Ksm } from '../ksm.js';

/** ksmtuned.conf's parameters (its names), and their defaults. */
export interface KsmtunedConfig {
  /** Seconds between two decisions. */
  KSM_MONITOR_INTERVAL: number;
  /** sleep_millisecs for a 16 GiB host (scaled inversely to MemTotal, floor 10). */
  KSM_SLEEP_MSEC: number;
  /** Added to npages at a decision where free memory is under the threshold. */
  KSM_NPAGES_BOOST: number;
  /** Added to npages (it is negative) at a decision where it is not. */
  KSM_NPAGES_DECAY: number;
  KSM_NPAGES_MIN: number;
  KSM_NPAGES_MAX: number;
  /** The threshold as a percentage of MemTotal... */
  KSM_THRES_COEF: number;
  /** ...but at least this many kB. */
  KSM_THRES_CONST: number;
}

export const KSMTUNED_DEFAULTS: Readonly<KsmtunedConfig> = Object.freeze({
  KSM_MONITOR_INTERVAL: 60,
  KSM_SLEEP_MSEC: 10,
  KSM_NPAGES_BOOST: 300,
  KSM_NPAGES_DECAY: -50,
  KSM_NPAGES_MIN: 64,
  KSM_NPAGES_MAX: 1250,
  KSM_THRES_COEF: 20,
  KSM_THRES_CONST: 2048,
});

/** The sleep ksmtuned never goes below, in ms (fixed in its script). */
export const KSMTUNED_MIN_SLEEP_MSEC = 10;
/** The host size at which sleep_millisecs is KSM_SLEEP_MSEC: 16 GiB, in kB. */
const REFERENCE_HOST_KB = 16 * 1024 * 1024;

/** The memory figures ksmtuned reads at each decision, in kB (as /proc/meminfo gives them). */
export interface HostMemorySample {
  /** Memory committed to the guests (the RSS of the qemu processes). */
  committedKb: number;
  /** MemFree + Buffers + Cached. */
  freeKb: number;
}

/** One decision: what ksmtuned writes to /sys/kernel/mm/ksm, and why. */
export type KsmtunedDecision =
  | { run: 0; reason: 'plenty'; npages: number }
  | { run: 1; reason: 'boost' | 'decay'; pagesToScan: number; sleepMillisecs: number; npages: number };

export class Ksmtuned {
  readonly config: Readonly<KsmtunedConfig>;
  /** MemTotal, kB (read once at start, as the script does). */
  readonly totalKb: number;
  /** The threshold, kB. */
  readonly thresKb: number;
  /** The sleep_millisecs it writes whenever it starts ksmd. */
  readonly sleepMillisecs: number;
  /** pages_to_scan it would write next (0 until the first start). */
  #npages = 0;

  /** `totalKb`: the host's MemTotal in kB; `config`: ksmtuned.conf's settings over the defaults. */
  constructor(totalKb: number, config: Partial<KsmtunedConfig> = {}) {
    if (!Number.isInteger(totalKb) || totalKb < 1) throw new KsmError('EINVAL', `ksmtuned: MemTotal must be a positive integer of kB, got ${totalKb}`);
    this.config = Object.freeze({ ...KSMTUNED_DEFAULTS, ...checkConfig(config) });
    this.totalKb = totalKb;
    const c = this.config;
    this.thresKb = Math.max(Math.floor((totalKb * c.KSM_THRES_COEF) / 100), c.KSM_THRES_CONST);
    const sleep = Math.floor((c.KSM_SLEEP_MSEC * REFERENCE_HOST_KB) / totalKb);
    this.sleepMillisecs = sleep <= KSMTUNED_MIN_SLEEP_MSEC ? KSMTUNED_MIN_SLEEP_MSEC : sleep;
  }

  /** The npages it keeps between decisions. */
  get npages(): number { return this.#npages; }

  /** ms between two decisions. */
  get intervalMs(): number { return this.config.KSM_MONITOR_INTERVAL * 1000; }

  /** One decision (the script's `adjust`), from this interval's memory figures. */
  adjust(sample: HostMemorySample): KsmtunedDecision {
    const { committedKb, freeKb } = checkSample(sample);
    const c = this.config;
    if (committedKb + this.thresKb < this.totalKb && freeKb > this.thresKb) {
      return { run: 0, reason: 'plenty', npages: this.#npages };
    }
    const boost = freeKb < this.thresKb;
    const npages = this.#npages + (boost ? c.KSM_NPAGES_BOOST : c.KSM_NPAGES_DECAY);
    this.#npages = npages < c.KSM_NPAGES_MIN ? c.KSM_NPAGES_MIN : npages > c.KSM_NPAGES_MAX ? c.KSM_NPAGES_MAX : npages;
    return { run: 1, reason: boost ? 'boost' : 'decay', pagesToScan: this.#npages, sleepMillisecs: this.sleepMillisecs, npages: this.#npages };
  }

  /**
   * Writes a decision to a Ksm's knobs, in the script's order (pages_to_scan, sleep_millisecs,
   * run). EINVAL while the Ksm's advisor_mode is scan-time: the advisor owns pages_to_scan then.
   */
  static apply(ksm: Ksm, decision: KsmtunedDecision): void {
    if (decision.run === 0) { ksm.setKnob('run', 0); return; }
    if (ksm.knobs.advisorMode === 'scan-time') throw new KsmError('EINVAL', 'ksmtuned: cannot write pages_to_scan while advisor_mode is scan-time (the advisor sets it)');
    ksm.setKnobs({ pages_to_scan: decision.pagesToScan, sleep_millisecs: decision.sleepMillisecs, run: 1 });
  }
}

function checkConfig(config: Partial<KsmtunedConfig>): Partial<KsmtunedConfig> {
  for (const [name, value] of Object.entries(config)) {
    if (!Object.hasOwn(KSMTUNED_DEFAULTS, name)) {
      throw new KsmError('EINVAL', `ksmtuned: unknown parameter ${name} (${Object.keys(KSMTUNED_DEFAULTS).join(', ')})`);
    }
    const signed = name === 'KSM_NPAGES_DECAY' || name === 'KSM_NPAGES_BOOST';
    if (!Number.isInteger(value) || (!signed && (value as number) < 0)) {
      throw new KsmError('EINVAL', `ksmtuned: ${name} must be ${signed ? 'an integer' : 'a non-negative integer'}, got ${value}`);
    }
  }
  const merged = { ...KSMTUNED_DEFAULTS, ...config };
  if (merged.KSM_MONITOR_INTERVAL < 1) throw new KsmError('EINVAL', 'ksmtuned: KSM_MONITOR_INTERVAL must be at least 1 second');
  if (merged.KSM_NPAGES_MIN > merged.KSM_NPAGES_MAX) throw new KsmError('EINVAL', `ksmtuned: KSM_NPAGES_MIN ${merged.KSM_NPAGES_MIN} is above KSM_NPAGES_MAX ${merged.KSM_NPAGES_MAX}`);
  return config;
}

function checkSample(sample: HostMemorySample): HostMemorySample {
  for (const key of ['committedKb', 'freeKb'] as const) {
    const value = sample?.[key];
    if (!Number.isInteger(value) || value < 0) throw new KsmError('EINVAL', `ksmtuned: ${key} must be a non-negative integer of kB, got ${value}`);
  }
  return sample;
}
