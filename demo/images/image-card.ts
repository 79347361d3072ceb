/**
 * "Your own memory images": files dropped on the page (raw images or ELF cores, any size) are
 * streamed in slices and fingerprinted in Web Workers (fingerprint-pool.ts); the page shows its
 * progress and what the contents allow. Nothing is uploaded: the files are read where they lie.
 */
import { PAGE_SIZE } from '../../src/generated/core-abi.js';
import { fingerprintFiles, type FingerprintedImage } from './fingerprint-pool.js';
import { contentStats } from './content-stats.js';
import { esc } from '../../src/estimate/svg.js';

const WORKER_URL = './fingerprint-worker.js';

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const mib = (pages: number) => `${((pages * PAGE_SIZE) / 2 ** 20).toFixed(1)} MiB`;

/** Wires the drop zone and the file input; `report` shows an error on the page. */
export function wireImageCard(report: (error: unknown) => void, onImages?: (images: FingerprintedImage[]) => Promise<void>): void {
  const zone = $('#image-drop');
  const input = $<HTMLInputElement>('#image-files');
  const take = (files: FileList | null) => {
    if (files && files.length) run([...files], onImages).catch((error) => { setStatus('failed', 'nothing estimated: see the error above'); report(error); });
  };
  input.addEventListener('change', () => take(input.files));
  zone.addEventListener('dragover', (event) => { event.preventDefault(); zone.classList.add('over'); });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (event) => {
    event.preventDefault();
    zone.classList.remove('over');
    take(event.dataTransfer?.files ?? null);
  });
}

function setStatus(state: 'reading' | 'estimating' | 'done' | 'failed', text = ''): void {
  const status = $('#image-status');
  status.dataset.state = state;
  status.textContent = text;
}

async function run(files: File[], onImages?: (images: FingerprintedImage[]) => Promise<void>): Promise<void> {
  const bar = $<HTMLProgressElement>('#image-progress');
  const started = performance.now();
  setStatus('reading', `reading ${files.length} file(s) in slices, fingerprinting on ${Math.min(navigator.hardwareConcurrency || 2, 8)} workers…`);
  const images = await fingerprintFiles(files, WORKER_URL, ({ bytesDone, bytesTotal }) => {
    bar.max = bytesTotal;
    bar.value = bytesDone;
  });
  const seconds = (performance.now() - started) / 1000;
  showStats(images, seconds);
  if (onImages) {
    setStatus('estimating', 'running ksmd on the fingerprints…');
    await onImages(images);
  }
  setStatus('done', `read and fingerprinted in ${seconds.toFixed(1)} s`);
}

function showStats(images: FingerprintedImage[], seconds: number): void {
  const stats = contentStats(images);
  const rows = images.map((image) => `<tr><td>${esc(image.name)}</td><td>${image.pages}</td><td>${mib(image.pages)}</td></tr>`);
  $('#image-spaces').innerHTML = rows.join('');
  const figures = $('#image-figures');
  figures.dataset.pages = String(stats.pages);
  figures.dataset.zeroPages = String(stats.zeroPages);
  figures.dataset.distinct = String(stats.distinct);
  figures.textContent = `${stats.pages} pages (${mib(stats.pages)}) in ${seconds.toFixed(1)} s: ${stats.distinct} distinct contents, `
    + `${stats.zeroPages} zero pages; at most ${stats.duplicates} pages (${mib(stats.duplicates)}) could be freed by merging.`;
}
