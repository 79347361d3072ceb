/**
 * Fingerprints dropped files in Web Workers, one per core: each file's page ranges (a raw image,
 * or an ELF core's loadable segments, src/images/) are cut into pieces, the pieces shared among the
 * workers, and their records put back in page order. Nothing leaves the browser, and the page
 * holds 24 bytes per page of the files, never their contents.
 */
import { PAGE_SIZE } from '../../src/generated/core-abi.js';
import { FP_RECORD_SIZE } from '../../src/fingerprint/hash.js';
import { elfCoreSegments, hasElfMagic, runAsync } from '../../src/images/elf-core.js';
import { pagesOf, rawImageRanges, type ByteRange } from '../../src/images/layout.js';
import type { FingerprintJob, WorkerReply } from './messages.js';

/** Bytes of a file one worker takes at a time (a multiple of the page size). */
const PIECE_BYTES = 32 << 20;

/** One file as an address space: its name, pages and their fingerprint records in page order. */
export interface FingerprintedImage { name: string; pages: number; records: Uint8Array }

export interface PoolProgress { bytesDone: number; bytesTotal: number }

/** The file's page ranges: an ELF core's segments, else the whole file as a raw image. */
export async function imageRanges(file: File): Promise<ByteRange[]> {
  const read = async ({ position, length }: { position: number; length: number }) =>
    new Uint8Array(await file.slice(position, position + length).arrayBuffer());
  if (hasElfMagic(await read({ position: 0, length: 4 }))) return runAsync(elfCoreSegments(file.name, file.size), read);
  return rawImageRanges(file.name, file.size);
}

/** Fingerprints the files (each one space); `onProgress` after every slice any worker read. */
export async function fingerprintFiles(files: readonly File[], workerUrl: string, onProgress: (p: PoolProgress) => void): Promise<FingerprintedImage[]> {
  const images: FingerprintedImage[] = [];
  const jobs: Array<FingerprintJob & { image: number; firstPage: number }> = [];
  for (const file of files) {
    const ranges = await imageRanges(file);
    const image = images.push({ name: file.name, pages: pagesOf(ranges), records: new Uint8Array(pagesOf(ranges) * FP_RECORD_SIZE) }) - 1;
    let page = 0;
    for (const range of ranges) {
      for (let at = 0; at < range.length; at += PIECE_BYTES) {
        const length = Math.min(PIECE_BYTES, range.length - at);
        jobs.push({ id: jobs.length, file, offset: range.offset + at, length, image, firstPage: page + at / PAGE_SIZE });
      }
      page += Math.ceil(range.length / PAGE_SIZE);
    }
  }
  const progress = { bytesDone: 0, bytesTotal: jobs.reduce((n, j) => n + j.length, 0) };
  const workers = Array.from({ length: Math.min(navigator.hardwareConcurrency || 2, 8, Math.max(jobs.length, 1)) }, () => new Worker(workerUrl));
  try {
    let next = 0;
    await Promise.all(workers.map(async (worker) => {
      while (next < jobs.length) {
        const job = jobs[next++];
        const records = await runJob(worker, job, (bytes) => { progress.bytesDone += bytes; onProgress(progress); });
        images[job.image].records.set(records, job.firstPage * FP_RECORD_SIZE);
      }
    }));
  } finally {
    for (const worker of workers) worker.terminate();
  }
  return images;
}

function runJob(worker: Worker, job: FingerprintJob, onBytes: (bytes: number) => void): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      if (reply.id !== job.id) return;
      if (reply.kind === 'progress') onBytes(reply.bytes);
      else if (reply.kind === 'done') resolve(reply.records);
      else reject(new Error(reply.message));
    };
    worker.onerror = (event) => reject(new Error(`fingerprint worker: ${event.message}`));
    const { id, file, offset, length } = job;
    worker.postMessage({ id, file, offset, length } satisfies FingerprintJob);
  });
}
