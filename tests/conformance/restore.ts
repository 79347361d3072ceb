/**
 * Moved to src/kernel/restore.ts (the calibrate command drives the kernel too); kept here for the
 * tests' imports and as the command that puts KSM back after a killed run:
 *   node --import tsx tests/conformance/restore.ts
 */
import { pathToFileURL } from 'node:url';
import { JOURNAL, restoreKnobs, staleJournal } from '../../src/kernel/restore.js';
import { writeKnob } from '../../src/kernel/sysfs.js';

export * from '../../src/kernel/restore.js';

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const saved = staleJournal();
  if (!saved) {
    console.log(`no journal at ${JOURNAL}; writing run=0`);
    writeKnob('run', 0);
  } else {
    const left = restoreKnobs(saved);
    console.log(left.length ? `restore incomplete: ${left.join('; ')}` : 'every KSM knob restored');
    process.exitCode = left.length ? 1 : 0;
  }
}
