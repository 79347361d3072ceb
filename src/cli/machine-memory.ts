/**
 * This machine's memory against what a run's page engines would hold (Node only: the memory rule
 * in memory.ts is shared with the browser demo).
 */
import { totalmem } from 'node:os';
import { PAGE_SIZE, type EngineName } from '../backend.js';
import { CliError } from './errors.js';
import { bytes } from './format.js';

/**
 * Refuses a run whose page engines would hold more page bytes than this machine has memory
 * (`total`, default os.totalmem()): they would grow until the kernel killed the process. The
 * fingerprint engine keeps no page bytes.
 */
export function checkMachineMemory(pages: number, engine: EngineName, total = totalmem()): void {
  if (engine === 'fingerprints' || pages * PAGE_SIZE <= total) return;
  throw new CliError('input', `the page engine holds every page's bytes: ${bytes(pages * PAGE_SIZE)} of pages, more than this machine's ${bytes(total)} of memory; --mode fingerprints holds them in about 48 bytes a page`);
}
