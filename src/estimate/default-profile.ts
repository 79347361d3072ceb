/**
 * The clock profile used when `estimate` is given none, measured on the project's reference host:
 * what `ksm-wasm calibrate` writes, verbatim (its `measured.command` says how it was made).
 */
import type { ClockProfile } from './profile.js';

export const DEFAULT_PROFILE: ClockProfile = {
 "format": "ksm-wasm-clock-profile",
 "version": 1,
 "hz": 250,
 "cpuUs": {
  "batch": 79.019,
  "firstSight": 2.194,
  "cheapVisit": 0,
  "otherPage": 6.567,
  "merge": 0,
  "treeStep": 0.343,
  "batchTreeStep": 4.934
 },
 "measured": {
  "host": "AMD EPYC x 2",
  "kernel": "6.18.44-fc-v1045",
  "date": "2026-12-02T04:11:45.439Z",
  "command": "node --import tsx scripts/fit-clock-profile.ts --write",
  "how": "fitted as ksm-wasm calibrate fits, from the recorded free-running runs at 100/20 and 20000/100 in clones.json (2026-12-02T03:42:04.327Z, load [3.25,3.46,6.48]) and mixed.json (2026-12-02T03:49:04.610Z, load [1.96,4.33,8.95])",
  "fit": [
   {
    "run": "clones 100/20",
    "worst_time_error_pct": 1.3,
    "worst_cpu_error_pct": 3.1
   },
   {
    "run": "clones 20000/100",
    "worst_time_error_pct": 10.2,
    "worst_cpu_error_pct": 15.6
   },
   {
    "run": "mixed 100/20",
    "worst_time_error_pct": 0.7,
    "worst_cpu_error_pct": 20
   },
   {
    "run": "mixed 20000/100",
    "worst_time_error_pct": 12.6,
    "worst_cpu_error_pct": 23.3
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
      "ms": 3998.199,
      "cpu_ms": 48.7
     },
     {
      "ms": 8111.669,
      "cpu_ms": 236.297
     },
     {
      "ms": 12016.403,
      "cpu_ms": 298.526
     },
     {
      "ms": 16146.533,
      "cpu_ms": 364.235
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
      "ms": 32.688,
      "cpu_ms": 32.574
     },
     {
      "ms": 282.49,
      "cpu_ms": 179.174
     },
     {
      "ms": 424.445,
      "cpu_ms": 214.189
     },
     {
      "ms": 555.868,
      "cpu_ms": 242.191
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
      "ms": 6084.21,
      "cpu_ms": 72.924
     },
     {
      "ms": 12196.436,
      "cpu_ms": 479.02
     },
     {
      "ms": 18264.224,
      "cpu_ms": 702.306
     },
     {
      "ms": 24369.858,
      "cpu_ms": 918.65
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
      "ms": 170.344,
      "cpu_ms": 63.391
     },
     {
      "ms": 733.548,
      "cpu_ms": 428.315
     },
     {
      "ms": 1116.937,
      "cpu_ms": 600.35
     },
     {
      "ms": 1508.213,
      "cpu_ms": 787.352
     }
    ]
   }
  ]
 },
 "extraTicks": 1,
 "wakeMs": 1.9
};
