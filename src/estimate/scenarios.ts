/**
 * Built-in workloads (--scenario), made in memory, the same bytes on every run: the kernel
 * oracle's recipes at seed 1 and scale 1 (src/estimate/workloads.ts), so their results can be held
 * against the real ksmd's.
 */
import { CliError } from '../cli/errors.js';
import { PageContent } from '../pagespec.js';
import type { ImageSource } from './source.js';
import { genClones, genMixed } from './workloads.js';

const SEED = 1;

/** A guest: its name and the names of its pages, in address order. */
export interface GuestSpec { name: string; pages: string[] }

const named = (scenario: string, guests: string[][]): GuestSpec[] => guests.map((pages, g) => ({ name: `${scenario}/guest${g}`, pages }));

export const SCENARIOS: Readonly<Record<string, { describe: string; guests: (seed: number) => GuestSpec[] }>> = {
  clones: { describe: '8 guests x 2048 pages booted from one base image; 15% unique, 10% zero pages each', guests: (seed) => named('clones', genClones(seed)) },
  mixed: { describe: '6 guests x 4096 pages: OS families, shared libraries and data, 0xFF pages, forked heaps, zero pages, unique data', guests: (seed) => named('mixed', genMixed(seed)) },
};

/** The guests of a built-in scenario as sources (pages made when read). */
export function openScenario(name: string): ImageSource[] {
  const scenario = Object.hasOwn(SCENARIOS, name) ? SCENARIOS[name] : undefined;
  if (!scenario) throw new CliError('input', `--scenario ${name}: no such scenario (known: ${Object.keys(SCENARIOS).join(', ')})`);
  return scenario.guests(SEED).map((guest) => specSource(guest));
}

/** A guest given by page names, as a source. */
export function specSource(guest: GuestSpec, seed = SEED): ImageSource {
  return { name: guest.name, pages: guest.pages.length, read: (sink) => sink(new PageContent(seed).image(guest.pages)) };
}
