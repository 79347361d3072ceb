// Moved to src/kernel/ (the calibrate command drives the kernel too); kept here for the tests' imports.
export * from '../../src/kernel/own-dir.js';
