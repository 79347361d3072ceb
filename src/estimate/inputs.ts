/**
 * Opens the inputs in the order they were given: image files (raw or ELF core), live processes
 * and built-in scenarios. Every input is checked before anything is scanned.
 */
import { isElf, openElfCore } from './elf.js';
import { openProcess, parsePid } from './proc.js';
import { openRawImage, statImage } from './raw.js';
import { openScenario } from './scenarios.js';
import type { ImageSource } from './source.js';

export type InputSpec =
  | { kind: 'image'; path: string }
  | { kind: 'pid'; text: string }
  | { kind: 'scenario'; name: string };

export function openInputs(specs: readonly InputSpec[]): ImageSource[] {
  return specs.flatMap((spec): ImageSource[] => {
    switch (spec.kind) {
      case 'image': return [openImage(spec.path)];
      case 'pid': return [openProcess(parsePid(spec.text))];
      case 'scenario': return openScenario(spec.name);
    }
  });
}

/** A file: an ELF core if it starts with the ELF magic, else a raw image. */
export function openImage(path: string): ImageSource {
  const size = statImage(path);
  return isElf(path, size) ? openElfCore(path, size) : openRawImage(path, size);
}
