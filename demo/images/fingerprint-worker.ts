/**
 * A Web Worker that fingerprints pieces of a dropped file: it reads the piece in slices (never
 * the whole file), hashes each slice's pages in the core (src/fingerprint/hash.ts: the kernel's
 * checksum, a 128-bit fingerprint, the zero flag) and sends back 24 bytes per page.
 */
import { PAGE_SIZE } from '../../src/generated/core-abi.js';
import { FP_RECORD_SIZE, PageHasher } from '../../src/fingerprint/hash.js';
import type { FingerprintJob, WorkerReply } from './messages.js';

/** Bytes read from the file at a time: what one worker holds of it. */
const SLICE_BYTES = 4 << 20;

const hasher = new PageHasher();
const post = (reply: WorkerReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(reply, transfer);

self.onmessage = async (event: MessageEvent<FingerprintJob>) => {
  const { id, file, offset, length } = event.data;
  try {
    const records = new Uint8Array(Math.ceil(length / PAGE_SIZE) * FP_RECORD_SIZE);
    for (let done = 0; done < length; done += SLICE_BYTES) {
      const want = Math.min(SLICE_BYTES, length - done);
      const slice = new Uint8Array(await file.slice(offset + done, offset + done + want).arrayBuffer());
      if (slice.length !== want) throw new Error(`the file ended at byte ${offset + done + slice.length}, before the ${want} bytes expected there`);
      hasher.fingerprintInto(wholePages(slice), records, (done / PAGE_SIZE) * FP_RECORD_SIZE);
      post({ id, kind: 'progress', bytes: want });
    }
    post({ id, kind: 'done', records }, [records.buffer]);
  } catch (error) {
    post({ id, kind: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};

/** The slice, its last page padded with zeros if the range ends inside it. */
function wholePages(slice: Uint8Array): Uint8Array {
  if (slice.length % PAGE_SIZE === 0) return slice;
  const padded = new Uint8Array(Math.ceil(slice.length / PAGE_SIZE) * PAGE_SIZE);
  padded.set(slice);
  return padded;
}
