/**
 * --mode: which engine an estimate runs on. 'pages': the page engine (every page's 4096 bytes in
 * the engine, compared byte by byte; wasm32 caps it at 4 GiB of memory). 'fingerprints': the
 * fingerprint engine (a 128-bit fingerprint per page, about 38-48 bytes of engine memory per page;
 * docs/fingerprints.md). 'auto' (the default): fingerprints when the inputs do not fit the page
 * engine's cap, and from AUTO_FINGERPRINTS_FROM_PAGES pages on, where the bench shows the
 * fingerprint engine faster (docs/fingerprints.md, "Which mode"), unless they have transparent
 * huge pages; else pages.
 */
import { CliError } from '../cli/errors.js';
import { engineCapacity, engineFits } from '../cli/memory.js';
import { bytes } from '../cli/format.js';
import { HUGE_PAGE_PAGES, type EngineName } from '../backend.js';
import { PAGE_SIZE } from './source.js';

export type EstimateMode = 'pages' | 'fingerprints';
export const MODE_CHOICES = ['pages', 'fingerprints', 'auto'] as const;
export type ModeChoice = (typeof MODE_CHOICES)[number];

/**
 * From this many input pages on, auto takes fingerprints even when pages fit. Measured with
 * bench/modes.ts on a 2-core machine: the fingerprint engine was faster at every size tried (load
 * and scans), so the line is at the smallest inputs; below it the page engine keeps what it alone
 * offers (the real bytes, compared whole).
 */
export const AUTO_FINGERPRINTS_FROM_PAGES = 2048;

/** --mode's value, checked. */
export function parseMode(text: string | undefined): ModeChoice {
  if (text === undefined) return 'auto';
  if (!(MODE_CHOICES as readonly string[]).includes(text)) throw new CliError('input', `--mode ${text}: must be pages, fingerprints or auto`);
  return text as ModeChoice;
}

/**
 * The mode a run takes for `pages` input pages under an optional --max-memory (bytes). Inputs with
 * transparent huge pages (live processes) stay on the page engine when they fit: there a split can
 * take pages from under the unstable tree, and which descents meet them depends on the tree's
 * order, so the fingerprint engine's unshared/volatile counts can differ in the scan of the splits
 * (docs/fingerprints.md); the page engine's order is the kernel's.
 */
export function resolveMode(choice: ModeChoice, pages: number, maxMemory?: number, hugePages = false): EstimateMode {
  if (choice !== 'auto') return choice;
  if (!engineFits(pages) || (maxMemory !== undefined && pages * PAGE_SIZE > maxMemory)) return 'fingerprints';
  return pages >= AUTO_FINGERPRINTS_FROM_PAGES && !hugePages ? 'fingerprints' : 'pages';
}

/** The engine (Ksm's `engine`) of a mode. */
export const engineOf = (mode: EstimateMode): EngineName => (mode === 'pages' ? 'wasm' : 'fingerprints');

/** The mode of an engine (the reference engine compares pages, as the page engine does). */
export const modeOf = (engine: EngineName): EstimateMode => (engine === 'fingerprints' ? 'fingerprints' : 'pages');

/**
 * What a run says on stderr when `hugeSpans` whole huge pages are among its inputs and its trees
 * are in fingerprint order, not in the pages' bytes' order as ksmd's are: the fingerprint engine's
 * trees, and with fingerprint files either engine's (they keep no bytes; the page engine gets pages
 * made from the fingerprints). Where huge pages split, that order decides which descents give up
 * (docs/fingerprints.md, with the QEMU guests' figures). Undefined when there are no huge pages.
 */
export function hugePagesNote(hugeSpans: number, from: 'the fingerprint engine' | 'fingerprint files'): string | undefined {
  if (hugeSpans === 0) return undefined;
  const remedy = from === 'the fingerprint engine'
    ? `--mode pages keeps ksmd's order, for inputs up to ${bytes(engineCapacity('wasm') * PAGE_SIZE)} of pages`
    : 'fingerprint files keep no bytes: estimate the inputs themselves with --mode pages to keep ksmd\'s order';
  return `note: ${bytes(hugeSpans * HUGE_PAGE_PAGES * PAGE_SIZE)} of the inputs are transparent huge pages: in the full scans where they split, the counters can differ from ksmd's (the trees are in fingerprint order, ksmd's in the pages' bytes'); on QEMU guests the fingerprint engine settled at ksmd's scan with ksmd's counters (docs/fingerprints.md). ${remedy}.`;
}
