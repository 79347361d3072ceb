/**
 * The clock profile used when `estimate` is given none: `ksm-wasm calibrate`'s output on the
 * project's reference host, verbatim (its `measured.command` says how it was made).
 */
import type { ClockProfile } from './profile.js';

export const DEFAULT_PROFILE: ClockProfile = {
  format: 'ksm-wasm-clock-profile',
  version: 1,
  hz: 250,
  extraTicks: 1,
  wakeMs: 0.05,
  cpuUs: { batch: 170, firstSight: 2.3, cheapVisit: 0.35, otherPage: 2.6, merge: 9, treeStep: 0, batchTreeStep: 0 },
  measured: { provisional: true },
};
