/**
 * The clock profile used when `estimate` is given none, measured on the project's reference host:
 * what `ksm-wasm calibrate` writes, verbatim (its `measured.command` says how it was made).
 */
import type { ClockProfile } from './clock-profile.js';

export const DEFAULT_PROFILE: ClockProfile = {
 "format": "ksm-wasm-clock-profile",
 "version": 2,
 "hz": 250,
 "cpuUs": {
  "batch": 45.081,
  "firstSight": 1.8,
  "cheapVisit": 0.088,
  "otherPage": 0,
  "stableHit": 2.039,
  "pairMerge": 2.922,
  "treeStep": 0.487,
  "batchTreeStep": 5.525
 },
 "measured": {
  "host": "AMD EPYC x 2",
  "kernel": "6.18.44-fc-v1045",
  "date": "2026-12-02T05:40:13.881Z",
  "command": "node --import tsx scripts/fit-clock-profile.ts --write",
  "how": "fitted as ksm-wasm calibrate fits, from the recorded free-running runs at 100/20 and 20000/100 in clones.json (2026-12-02T05:37:53.085Z, load [2.96,4.81,7.09]) and mixed.json (2026-12-02T05:37:53.257Z, load [2.86,4.78,7.09])",
  "fit": [
   {
    "run": "clones 100/20",
    "worst_time_error_pct": 2,
    "worst_cpu_error_pct": 2.5
   },
   {
    "run": "clones 20000/100",
    "worst_time_error_pct": 4.2,
    "worst_cpu_error_pct": 1.7
   },
   {
    "run": "mixed 100/20",
    "worst_time_error_pct": 1.2,
    "worst_cpu_error_pct": 4.7
   },
   {
    "run": "mixed 20000/100",
    "worst_time_error_pct": 2.6,
    "worst_cpu_error_pct": 4.3
   }
  ],
  "observations": [
   {
    "run": "clones 100/20",
    "knobs": {
     "pages_to_scan": 100,
     "sleep_millisecs": 20
    },
    "kernel": [
     {
      "ms": 4052.01,
      "cpu_ms": 37.055
     },
     {
      "ms": 8016.691,
      "cpu_ms": 210.744
     },
     {
      "ms": 11978.024,
      "cpu_ms": 262.991
     },
     {
      "ms": 15927.461,
      "cpu_ms": 319.749
     }
    ]
   },
   {
    "run": "clones 20000/100",
    "knobs": {
     "pages_to_scan": 20000,
     "sleep_millisecs": 100
    },
    "kernel": [
     {
      "ms": 30.841,
      "cpu_ms": 29.962
     },
     {
      "ms": 276.622,
      "cpu_ms": 168.674
     },
     {
      "ms": 406.402,
      "cpu_ms": 201.061
     },
     {
      "ms": 536.129,
      "cpu_ms": 226.831
     }
    ]
   },
   {
    "run": "mixed 100/20",
    "knobs": {
     "pages_to_scan": 100,
     "sleep_millisecs": 20
    },
    "kernel": [
     {
      "ms": 6040.154,
      "cpu_ms": 55.235
     },
     {
      "ms": 12022.583,
      "cpu_ms": 355.779
     },
     {
      "ms": 17894.539,
      "cpu_ms": 547.321
     },
     {
      "ms": 23849.127,
      "cpu_ms": 728.824
     }
    ]
   },
   {
    "run": "mixed 20000/100",
    "knobs": {
     "pages_to_scan": 20000,
     "sleep_millisecs": 100
    },
    "kernel": [
     {
      "ms": 148.62,
      "cpu_ms": 43.64
     },
     {
      "ms": 647.179,
      "cpu_ms": 332.161
     },
     {
      "ms": 980.135,
      "cpu_ms": 459.736
     },
     {
      "ms": 1315.268,
      "cpu_ms": 587.821
     }
    ]
   }
  ]
 },
 "extraTicks": 1,
 "wakeMs": 1.54
};
