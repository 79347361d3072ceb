/**
 * The knobs an estimate runs under: the kernel's names, defaults and validation (src/knobs.ts).
 */
import { DEFAULT_KNOBS, validateKnob, type Knobs } from '../knobs.js';
import { KsmError } from '../errors.js';
import { CliError, ksmErrorText } from '../cli/errors.js';

export type EstimateKnobs = Pick<Knobs,
  'pagesToScan' | 'sleepMillisecs' | 'maxPageSharing' | 'useZeroPages' | 'smartScan' | 'mergeAcrossNodes'
  | 'advisorMode' | 'stableNodeChainsPruneMillisecs'>;

export const ESTIMATE_KNOB_DEFAULTS: Readonly<EstimateKnobs> = Object.freeze({
  pagesToScan: DEFAULT_KNOBS.pagesToScan,
  sleepMillisecs: DEFAULT_KNOBS.sleepMillisecs,
  maxPageSharing: DEFAULT_KNOBS.maxPageSharing,
  useZeroPages: DEFAULT_KNOBS.useZeroPages,
  smartScan: DEFAULT_KNOBS.smartScan,
  mergeAcrossNodes: DEFAULT_KNOBS.mergeAcrossNodes,
  advisorMode: DEFAULT_KNOBS.advisorMode,
  stableNodeChainsPruneMillisecs: DEFAULT_KNOBS.stableNodeChainsPruneMillisecs,
});

/** The order knobs are written in: the EBUSY ones first, pages_to_scan after the advisor's mode. */
export const KNOB_WRITE_ORDER: ReadonlyArray<keyof EstimateKnobs> = [
  'maxPageSharing', 'mergeAcrossNodes', 'useZeroPages', 'smartScan', 'stableNodeChainsPruneMillisecs',
  'sleepMillisecs', 'advisorMode', 'pagesToScan',
];

/** Checks one knob value as the kernel would; `flag` names it in the message. */
export function checkKnob<K extends keyof EstimateKnobs>(name: K, value: unknown, flag: string): EstimateKnobs[K] {
  try {
    return validateKnob(name, value) as EstimateKnobs[K];
  } catch (error) {
    if (error instanceof KsmError) throw new CliError('input', `${flag} ${String(value)}: the kernel refuses it (${ksmErrorText(error)})`);
    throw error;
  }
}
