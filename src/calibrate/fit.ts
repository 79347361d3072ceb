/**
 * From measurements of the real ksmd to a clock profile, and back: `predict` is what estimate
 * computes for a run (the engine's work per full scan, through cpu.ts and timing.ts); `fitProfile`
 * chooses the profile's figures so that predictions meet the measurements: the CPU costs by
 * non-negative least squares on each scan's CPU (relative errors), then the timer's extra ticks
 * and ksmd's wake-up latency by a search on the times.
 */
import { scanCpuMs, workCounts, type ScanWork } from '../estimate/cpu.js';
import { CPU_KINDS as KINDS, PROFILE_FORMAT, PROFILE_VERSION, type ClockProfile } from '../estimate/profile.js';
import { KernelClock } from '../estimate/timing.js';

/** One run at some knobs: what the engine did per full scan, and what the kernel measured. */
export interface ClockObservation {
  label: string;
  knobs: { pages_to_scan: number; sleep_millisecs: number };
  /** The engine's work in each full scan, at these knobs. */
  works: ScanWork[];
  /** The kernel's cumulative wall ms and CPU ms at the end of each full scan. */
  kernel: Array<{ ms: number; cpu_ms: number }>;
}

type CpuUs = ClockProfile['cpuUs'];

/** Predicted cumulative ms and CPU ms at the end of each full scan. */
export function predict(o: Pick<ClockObservation, 'knobs' | 'works'>, profile: ClockProfile): Array<{ ms: number; cpu_ms: number }> {
  const clock = new KernelClock(profile, o.knobs.sleep_millisecs);
  let cpu = 0;
  return o.works.map((w) => {
    const c = scanCpuMs(w, profile);
    cpu += c;
    return { ms: clock.scan(w.batches, c), cpu_ms: cpu };
  });
}

/** The CPU costs (µs) that best meet every scan's measured CPU, relative error, none negative. */
export function fitCpu(obs: readonly ClockObservation[]): CpuUs {
  const rows: Array<{ x: number[]; y: number; w: number }> = [];
  for (const o of obs) {
    o.works.forEach((work, i) => {
      const y = (o.kernel[i].cpu_ms - (o.kernel[i - 1]?.cpu_ms ?? 0)) * 1000;
      const counts = workCounts(work);
      rows.push({ x: KINDS.map((k) => counts[k]), y, w: 1 / Math.max(y, 1000) });
    });
  }
  const beta = KINDS.map(() => 1);
  for (let iter = 0; iter < 5000; iter++) {
    for (let j = 0; j < KINDS.length; j++) {
      let g = 0, h = 0;
      for (const r of rows) {
        const residual = r.x.reduce((a, x, k) => a + x * beta[k], 0) - r.y;
        g += r.w * r.w * residual * r.x[j];
        h += r.w * r.w * r.x[j] * r.x[j];
      }
      if (h > 0) beta[j] = Math.max(0, beta[j] - g / h);
    }
  }
  return Object.fromEntries(KINDS.map((k, j) => [k, Math.round(beta[j] * 1000) / 1000])) as CpuUs;
}

/** The timer's extra ticks (0-2) and the wake-up latency (0-4 ms) that best meet the measured times. */
export function fitTimer(obs: readonly ClockObservation[], base: Omit<ClockProfile, 'extraTicks' | 'wakeMs'>): { extraTicks: number; wakeMs: number } {
  let best = { extraTicks: 1, wakeMs: 0, err: Infinity };
  for (let extraTicks = 0; extraTicks <= 2; extraTicks++) {
    for (let wakeMs = 0; wakeMs <= 4; wakeMs = Math.round((wakeMs + 0.02) * 100) / 100) {
      const profile = { ...base, extraTicks, wakeMs } as ClockProfile;
      let err = 0;
      for (const o of obs) predict(o, profile).forEach((p, i) => { err += ((p.ms - o.kernel[i].ms) / o.kernel[i].ms) ** 2; });
      if (err < best.err) best = { extraTicks, wakeMs, err };
    }
  }
  return { extraTicks: best.extraTicks, wakeMs: best.wakeMs };
}

export function fitProfile(obs: readonly ClockObservation[], hz: number, measured: Record<string, unknown>): ClockProfile {
  const base = { format: PROFILE_FORMAT, version: PROFILE_VERSION, hz, cpuUs: fitCpu(obs), measured } as const;
  const profile: ClockProfile = { ...base, ...fitTimer(obs, base) };
  // The measurements themselves too, so that the profile can be fitted again (another model) without ksmd.
  const observations = obs.map((o) => ({ run: o.label, knobs: o.knobs, kernel: o.kernel.map((k) => ({ ms: round3(k.ms), cpu_ms: round3(k.cpu_ms) })) }));
  return { ...profile, measured: { ...measured, fit: fitReport(obs, profile), observations } };
}

/** Each observation's worst error of the fitted profile, as the profile keeps it. */
export function fitReport(obs: readonly ClockObservation[], profile: ClockProfile): Array<Record<string, string | number>> {
  return obs.map((o) => {
    const p = predict(o, profile);
    const worst = (key: 'ms' | 'cpu_ms') => Math.max(...p.map((x, i) => Math.abs(x[key] / o.kernel[i][key] - 1)));
    return { run: o.label, worst_time_error_pct: Math.round(worst('ms') * 1000) / 10, worst_cpu_error_pct: Math.round(worst('cpu_ms') * 1000) / 10 };
  });
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;
