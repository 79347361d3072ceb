/**
 * The suites, in the order a full run goes through them: the fixed-size ones first, then the two
 * that grow to fill what is left of the 5-minute budget (scaling, then trees).
 */
import type { Context } from './lib.js';
import { api } from './api.js';
import { fleetSuite } from './fleet.js';
import { host } from './host.js';
import { kernel } from './kernel.js';
import { memory } from './memory.js';
import { modes } from './modes.js';
import { primitives } from './primitives.js';
import { procread } from './proc-read.js';
import { scaling } from './scaling.js';
import { scans } from './scans.js';
import { shards } from './shards.js';
import { trees } from './trees.js';

export const SUITES: Record<string, (ctx: Context) => Promise<void>> = {
  primitives, scans, api, memory, modes, kernel, fleet: fleetSuite, procread, shards, scaling, trees, host,
};

/** Suites run only when named (--only): they take minutes of their own. */
export const ON_REQUEST: ReadonlySet<string> = new Set(['host']);

/** Seconds each suite needs at least (wall, on a busy 2-core machine), so earlier ones leave room. */
export const MINIMUM_SECONDS: Record<string, { quick: number; full: number }> = {
  primitives: { quick: 3, full: 8 },
  scans: { quick: 8, full: 30 },
  api: { quick: 4, full: 10 },
  memory: { quick: 3, full: 8 },
  modes: { quick: 10, full: 25 },
  kernel: { quick: 6, full: 20 },
  fleet: { quick: 20, full: 40 },
  procread: { quick: 4, full: 40 },
  shards: { quick: 6, full: 20 },
  scaling: { quick: 4, full: 15 },
  trees: { quick: 4, full: 12 },
  host: { quick: 15, full: 90 },
};
