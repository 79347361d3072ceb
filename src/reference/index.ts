/**
 * The plain-TypeScript reference engine: the oracle for the WebAssembly core and the benchmarks'
 * baseline. `ksm-wasm/reference`.
 */

export { ReferenceBackend, type ReferenceOptions } from './engine.js';
export { xxh64, xxh64Low32 } from './xxh64.js';
