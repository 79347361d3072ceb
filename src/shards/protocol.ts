/**
 * The messages between the coordinator and a shard's worker thread. Requests are answered in
 * order; page and record batches and hash jobs are not answered (a failure to load them is
 * reported at `start`; a hash job's end shows in its ring slot).
 */
import type { CliErrorKind } from '../cli/errors.js';
import type { CompiledCores } from '../core.js';
import type { ShardScan, ShardSpec } from './engine.js';
import type { PageBatch } from './partition.js';
import type { RecordBatch } from './deal-records.js';
import type { HashJob } from './hash-ring.js';

export type ToShard =
  | { type: 'init'; spec: ShardSpec; cores: CompiledCores }
  | { type: 'cores'; cores: CompiledCores }
  | ({ type: 'pages' } & PageBatch)
  | ({ type: 'records' } & RecordBatch)
  | ({ type: 'hash' } & HashJob)
  | { type: 'start' }
  | { type: 'scan' }
  | { type: 'close' };

export type FromShard =
  | { type: 'ready' }
  | { type: 'started' }
  | { type: 'scanned'; scan: ShardScan }
  | { type: 'closed' }
  | { type: 'failed'; kind: CliErrorKind | undefined; message: string };
