/** What the page and its fingerprinting workers say to each other. */

/** Fingerprint `length` bytes of `file` from `offset` (a page-aligned piece of one of its ranges). */
export interface FingerprintJob { id: number; file: Blob; offset: number; length: number }

export type WorkerReply =
  | { id: number; kind: 'progress'; bytes: number }
  | { id: number; kind: 'done'; records: Uint8Array }
  | { id: number; kind: 'error'; message: string };
