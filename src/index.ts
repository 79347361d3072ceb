/** ksm-wasm: Linux Kernel Samepage Merging for JavaScript. */
export { Ksm, MAX_SPACE_PAGES } from './ksm.js';
export type { KsmOptions, CreateSpaceOptions, BatchOutcome, LiveFigures, FullScanListener } from './ksm.js';
export { AddressSpace } from './space.js';
export type { MadviseAdvice } from './space.js';
export { KsmError, KsmCoreAbort } from './errors.js';
export type { KsmErrorCode } from './errors.js';
export { DEFAULT_KNOBS, SYSFS_KNOB_NAMES } from './knobs.js';
export type { Knobs, KnobName, SysfsKnobName, AnyKnobName, KnobValue, KnobWrites, AdvisorMode } from './knobs.js';
export { SYSFS_COUNTER_NAMES, KERNEL_PAGE_SIZE, KERNEL_RMAP_ITEM_SIZE, formatKsmStat, sysfsCounters } from './stats.js';
export type { KsmStats, KsmStat, SysfsCounterName } from './stats.js';
export { PAGE_SIZE } from './backend.js';
export type { PageInfo, PageMapping, ItemState, KsmBackend, EngineName } from './backend.js';
export { Ksmtuned, KSMTUNED_DEFAULTS, KSMTUNED_MIN_SLEEP_MSEC } from './policy/ksmtuned.js';
export type { KsmtunedConfig, KsmtunedDecision, HostMemorySample } from './policy/ksmtuned.js';
