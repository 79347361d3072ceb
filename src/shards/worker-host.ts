/**
 * A shard on a worker thread (worker.ts): requests answered in order, page batches handed over
 * without a copy (their pages in shared memory). Under tsx (tests, `node --import tsx src/cli.ts`) the worker runs the .ts
 * source; from dist, the compiled .js.
 */
import { Worker } from 'node:worker_threads';
import { CliError } from '../cli/errors.js';
import { compiledCores } from '../core.js';
import type { ShardHostFactory } from './host.js';
import type { FromShard, ToShard } from './protocol.js';
import type { ShardScan } from './engine.js';
import type { HashJobRunner } from './hash-ring.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The worker, from dist; from the .ts source, behind tsx's loader (on Node 20 a worker does not get it from --import). */
function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./worker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const source = new URL('./worker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source)}); })`, { eval: true });
}

/** Hash jobs run on `worker` (their end shows in the ring's slot, not in a reply). */
const hashOn = (worker: Worker): HashJobRunner => (job) => worker.postMessage({ type: 'hash', ...job } satisfies ToShard);

export const workerShard: ShardHostFactory = async (spec) => {
  const worker = startWorker();
  const waiting: Array<{ resolve: (m: FromShard) => void; reject: (e: unknown) => void }> = [];
  const failAll = (error: unknown) => { for (const w of waiting.splice(0)) w.reject(error); };
  let onScan: ((scan: ShardScan) => void) | undefined;
  worker.on('message', (message: FromShard) => {
    if (message.type === 'scanned') return onScan?.(message.scan);
    const next = waiting.shift();
    if (!next) return;
    if (message.type === 'failed') next.reject(message.kind ? new CliError(message.kind, message.message) : new Error(`shard worker: ${message.message}`));
    else next.resolve(message);
  });
  worker.on('error', failAll);
  worker.on('exit', (code) => failAll(new Error(`shard worker exited (status ${code})`)));
  const request = (message: ToShard): Promise<FromShard> => new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    worker.postMessage(message);
  });
  await request({ type: 'init', spec, cores: compiledCores(spec.engine === 'fingerprints') });
  return {
    write(batch) { worker.postMessage({ type: 'pages', ...batch } satisfies ToShard, [batch.pages.buffer as ArrayBuffer, batch.slots.buffer as ArrayBuffer]); },
    writeRecords(batch) { worker.postMessage({ type: 'records', ...batch } satisfies ToShard, [batch.pages.buffer as ArrayBuffer, batch.records.buffer as ArrayBuffer]); },
    hash: hashOn(worker),
    async start() { await request({ type: 'start' }); },
    async runScans(maxScans, stop, sink) {
      onScan = sink;
      try {
        await request({ type: 'run', maxScans, stop });
      } finally {
        onScan = undefined;
      }
    },
    async close() {
      await request({ type: 'close' }).catch(() => undefined);
      await worker.terminate();
    },
  };
};

/**
 * `count` worker threads that only fingerprint (the map step): each a runner of hash jobs. They
 * hold no engine; close() ends them (after the ring has seen every job done).
 */
export function startHashWorkers(count: number): { runners: HashJobRunner[]; close(): Promise<void> } {
  const cores = compiledCores(false);
  const workers = Array.from({ length: count }, () => {
    const worker = startWorker();
    worker.postMessage({ type: 'cores', cores } satisfies ToShard);
    return worker;
  });
  return {
    runners: workers.map(hashOn),
    async close() { await Promise.all(workers.map((w) => w.terminate())); },
  };
}
