/**
 * The "read every byte once" floor: a tiny WebAssembly module, assembled here byte by byte, that
 * imports the engine's own memory and reads pages of it and nothing else (no hashing, no
 * compare). It reads the very bytes the engine works on, in the same memory, so its speed is the
 * ceiling for any page primitive and for a pass that must look at every page.
 *
 *   readScalar(ptr, len) → i64   every 8-byte word, four i64 loads per step, XORed
 *   readSimd(ptr, len)   → i64   every 16-byte vector: eight v128 loads (128 bytes) per step into
 *                                four independent accumulators (len a multiple of 128)
 *   readPages(list, n)   → i64   n pages whose addresses are u32s at `list`, SIMD as above
 *
 * An earlier version ORed four loads per step into one accumulator: a chain of dependent ORs,
 * slower than the engine's own zero check and memory.copy, so a loop's speed rather than the
 * memory's. The bench now checks that no primitive reads faster than this floor
 * (primitives suite) and sets it beside a native read of the same bytes (Buffer.compare of a
 * region with itself) out of cache.
 */

const I32 = 0x7f, I64 = 0x7e, V128 = 0x7b;

const uleb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const sleb = (n: number): number[] => {
  const out: number[] = [];
  while (true) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && !(b & 0x40)) || (n === -1 && b & 0x40)) { out.push(b); return out; }
    out.push(b | 0x80);
  }
};
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

// Instructions used below.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32c = (n: number) => [0x41, ...sleb(n)];
const i32add = [0x6a], i32shl = [0x74], i32ltu = [0x49], i32geu = [0x4f], i32eqz = [0x45];
const i32load = (offset: number) => [0x28, 2, ...uleb(offset)];
const i64load = (offset: number) => [0x29, 3, ...uleb(offset)];
const i64xor = [0x85];
const v128load = (offset: number) => [0xfd, 0x00, 4, ...uleb(offset)];
const v128or = [0xfd, ...uleb(80)];
const lane = (l: number) => [0xfd, ...uleb(29), l]; // i64x2.extract_lane
const block = [0x02, 0x40], loop = [0x03, 0x40], end = [0x0b];
const brIf = (d: number) => [0x0d, d];

/** acc ^= 4 words at p; p += 32; while p < end. Locals: 0 ptr, 1 len, 2 end, 3 acc. */
const readScalar = [
  ...get(0), ...get(1), ...i32add, ...set(2),
  ...block, ...get(0), ...get(2), ...i32geu, ...brIf(0),
  ...loop,
  ...get(3),
  ...get(0), ...i64load(0), ...i64xor, ...get(0), ...i64load(8), ...i64xor,
  ...get(0), ...i64load(16), ...i64xor, ...get(0), ...i64load(24), ...i64xor,
  ...set(3),
  ...get(0), ...i32c(32), ...i32add, ...tee(0), ...get(2), ...i32ltu, ...brIf(0),
  ...end, ...end,
  ...get(3), ...end,
];

/**
 * The SIMD inner loop over [p, end) with p in local `p`, end in `e` and four v128 accumulators in
 * locals acc..acc+3: eight 16-byte loads (128 bytes) per step, each ORed into one of four
 * independent accumulators, so no chain of ORs limits the loads (the loop is as fast as the
 * machine can load). `end - p` must be a multiple of 128.
 */
const simdLoop = (p: number, e: number, acc: number) => [
  ...loop,
  ...[0, 1, 2, 3, 4, 5, 6, 7].flatMap((k) => [...get(acc + (k & 3)), ...get(p), ...v128load(16 * k), ...v128or, ...set(acc + (k & 3))]),
  ...get(p), ...i32c(128), ...i32add, ...tee(p), ...get(e), ...i32ltu, ...brIf(0),
  ...end,
];
/** The four accumulators ORed, folded to one i64. */
const foldLanes = (acc: number) => [
  ...get(acc), ...get(acc + 1), ...v128or, ...get(acc + 2), ...v128or, ...get(acc + 3), ...v128or, ...tee(acc),
  ...lane(0), ...get(acc), ...lane(1), ...i64xor,
];

/** Locals: 0 ptr, 1 len, 2 end, 3..6 acc (v128). */
const readSimd = [
  ...get(0), ...get(1), ...i32add, ...set(2),
  ...block, ...get(0), ...get(2), ...i32geu, ...brIf(0),
  ...simdLoop(0, 2, 3),
  ...end,
  ...foldLanes(3), ...end,
];

/** Locals: 0 list, 1 n, 2 i, 3 p, 4 end, 5..8 acc (v128). */
const readPages = [
  ...block, ...get(1), ...i32eqz, ...brIf(0),
  ...loop,
  ...get(0), ...get(2), ...i32c(2), ...i32shl, ...i32add, ...i32load(0), ...tee(3),
  ...i32c(4096), ...i32add, ...set(4),
  ...simdLoop(3, 4, 5),
  ...get(2), ...i32c(1), ...i32add, ...tee(2), ...get(1), ...i32ltu, ...brIf(0),
  ...end, ...end,
  ...foldLanes(5), ...end,
];

function assemble(): Uint8Array {
  const type = [0x60, ...vec([[I32], [I32]]), ...vec([[I64]])]; // (i32, i32) -> i64
  const body = (locals: Array<[number, number]>, code: number[]) => {
    const b = [...vec(locals.map(([n, t]) => [...uleb(n), t])), ...code];
    return [...uleb(b.length), ...b];
  };
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, 0x00]])), // memory, min 0, no max
    ...section(3, vec([[0], [0], [0]])),
    ...section(7, vec([
      [...name('readScalar'), 0x00, 0], [...name('readSimd'), 0x00, 1], [...name('readPages'), 0x00, 2],
    ])),
    ...section(10, vec([
      body([[1, I32], [1, I64]], readScalar),
      body([[1, I32], [4, V128]], readSimd),
      body([[3, I32], [4, V128]], readPages),
    ])),
  ];
  return new Uint8Array(bytes);
}

export interface Floor {
  readScalar(ptr: number, len: number): bigint;
  readSimd(ptr: number, len: number): bigint;
  readPages(list: number, n: number): bigint;
}

let compiled: WebAssembly.Module | undefined;

/** The floor module bound to `memory` (the engine's). */
export function floorFor(memory: WebAssembly.Memory): Floor {
  compiled ??= new WebAssembly.Module(assemble() as BufferSource);
  return new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as Floor;
}

/**
 * Reads every page at `addresses` once, through a u32 list placed at `listAt` (room for `room`
 * addresses; longer lists go in pieces). Returns a value that depends on every byte.
 */
export function readAll(floor: Floor, memory: WebAssembly.Memory, addresses: Uint32Array, listAt: number, room: number): bigint {
  let acc = 0n;
  for (let at = 0; at < addresses.length; at += room) {
    const piece = addresses.subarray(at, Math.min(addresses.length, at + room));
    new Uint32Array(memory.buffer, listAt, piece.length).set(piece);
    acc ^= floor.readPages(listAt, piece.length);
  }
  return acc;
}
