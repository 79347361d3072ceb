/**
 * The knobs and the counters: every `[data-knob]` element writes its /sys/kernel/mm/ksm file
 * through Ksm.setKnob (with the kernel's validation: a refusal is shown, and the control goes back
 * to the knob's real value); every `[data-counter]` and `[data-live]` element shows one number.
 */
import { SYSFS_KNOB_NAMES, sysfsCounters, type AnyKnobName, type Knobs, type Ksm, type LiveFigures } from '../src/index.js';

type Report = (error: unknown) => void;

const knobElements = () => [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement>('[data-knob]')];

/** Wires the knob controls to `ksm`; refusals go to `report`. */
export function wireKnobs(ksm: Ksm, report: Report, onChange: () => void): void {
  for (const element of knobElements()) {
    element.addEventListener('change', () => {
      try {
        ksm.setKnob(element.dataset.knob as AnyKnobName, element.value); // the page's own names: checked at run time
      } catch (error) {
        report(error);
        element.blur(); // so that syncKnobs puts the knob's real value back
      }
      syncKnobs(ksm);
      onChange();
    });
  }
  syncKnobs(ksm);
}

/** Shows each knob's current value (the advisor rewrites pages_to_scan; refusals revert). */
export function syncKnobs(ksm: Ksm): void {
  const knobs = ksm.knobs;
  const byFile = new Map<string, unknown>(Object.entries(SYSFS_KNOB_NAMES).map(([camel, file]) => [file, knobs[camel as keyof Knobs]]));
  for (const element of knobElements()) {
    if (element === document.activeElement && element instanceof HTMLInputElement) continue; // being typed in
    const value = String(byFile.get(element.dataset.knob!) ?? '');
    if (element.value !== value) element.value = value;
  }
  const rate = knobs.sleepMillisecs > 0 ? (knobs.pagesToScan * 1000) / knobs.sleepMillisecs : Infinity;
  setText('[data-pace]', knobs.run !== 1 ? 'ksmd is stopped' : `ksmd scans up to ${formatNumber(Math.round(rate))} pages/s`);
  document.body.dataset.run = String(knobs.run);
}

/** Writes the kernel's counters, cow_ksm, and the library's live figures into the page. */
export function showCounters(ksm: Ksm): { live: LiveFigures; counters: Record<string, number> } {
  const stats = ksm.stats();
  const counters: Record<string, number> = { ...sysfsCounters(stats), cow_ksm: stats.cowKsm };
  for (const element of document.querySelectorAll<HTMLElement>('[data-counter]')) {
    const value = counters[element.dataset.counter!];
    if (value !== undefined) setElementText(element, String(value));
  }
  const live = ksm.live();
  const figures: Record<string, number> = {
    mapped_pages: live.mappedPages,
    frames_in_use: live.framesInUse,
    pages_saved: live.mappedPages - live.framesInUse,
    saved_percent: live.mappedPages ? Math.round((100 * (live.mappedPages - live.framesInUse)) / live.mappedPages) : 0,
  };
  for (const element of document.querySelectorAll<HTMLElement>('[data-live]')) {
    const value = figures[element.dataset.live!];
    if (value !== undefined) setElementText(element, String(value));
  }
  setText('[data-mib-saved]', `${formatMiB(live.bytesSavedNow)} saved`);
  return { live, counters };
}

function setElementText(element: HTMLElement, text: string): void {
  if (element.textContent !== text) element.textContent = text;
}

function setText(selector: string, text: string): void {
  for (const element of document.querySelectorAll<HTMLElement>(selector)) setElementText(element, text);
}

/** 12,345 (not toLocaleString: its first call loads locale data, slowly). */
export function formatNumber(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

export function formatMiB(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

/** KiB below 1 MiB (a small, negative profit reads -48 KiB, not -0.0 MiB). */
export function formatBytes(bytes: number): string {
  return Math.abs(bytes) < 1 << 20 ? `${Math.round(bytes / 1024)} KiB` : formatMiB(bytes);
}
