/**
 * The distinct page frame numbers of one or more page sets, ascending, and each frame's position
 * among them: a dense index that callers keep what they learn of a frame in (its kpageflags, its
 * owners after a fork). For the millions of frames of a whole host: a Map of numbers took about
 * 0.4 s for the 1 M frames of a 4 GiB process and a sort of them 0.1 s, where a bitmap over the
 * frame numbers with a running count per 32 bits (a rank) takes about 15 ms. The bitmap is sized by
 * the highest frame number, so it is used only where it is dense enough (at most
 * BITMAP_WORDS_PER_FRAME of its 32-bit words per frame, 8 bytes a word with the counts): a small
 * process on a big host, whose few frames may sit at high physical addresses, gets the sort and a
 * binary search instead.
 */

export interface FrameIndex {
  /** The distinct frames, ascending. */
  readonly ascending: Float64Array;
  /** The position in `ascending` of a frame that is there. */
  positionOf(pfn: number): number;
}

/** The bitmap's 32-bit words (each with its running count: 8 bytes) it may take per frame listed. */
export const BITMAP_WORDS_PER_FRAME = 4;

/** The index of every frame of `lists`; tests set `wordsPerFrame` to 0 or Infinity to take one way or the other. */
export function indexFrames(lists: readonly ArrayLike<number>[], wordsPerFrame = BITMAP_WORDS_PER_FRAME): FrameIndex {
  let highest = -1;
  let count = 0;
  for (const list of lists) {
    count += list.length;
    for (let i = 0; i < list.length; i++) if (list[i] > highest) highest = list[i];
  }
  if (highest < 0) return { ascending: new Float64Array(0), positionOf: () => -1 }; // no frames (a bitmap of -1 >>> 5 words would be 512 MiB)
  const words = Math.floor(highest / 32) + 1;
  return highest < 2 ** 32 && words <= wordsPerFrame * count ? bitmapIndex(lists, highest) : sortedIndex(lists);
}

function bitmapIndex(lists: readonly ArrayLike<number>[], highest: number): FrameIndex {
  const bits = new Uint32Array((highest >>> 5) + 1);
  for (const list of lists) for (let i = 0; i < list.length; i++) bits[list[i] >>> 5] |= 1 << (list[i] & 31);
  const before = new Uint32Array(bits.length); // frames in the words before each word
  let count = 0;
  for (let w = 0; w < bits.length; w++) {
    before[w] = count;
    count += popcount(bits[w]);
  }
  const ascending = new Float64Array(count);
  let n = 0;
  for (let w = 0; w < bits.length; w++) {
    for (let word = bits[w]; word !== 0; word &= word - 1) ascending[n++] = w * 32 + (31 - Math.clz32(word & -word));
  }
  return {
    ascending,
    positionOf: (pfn) => before[pfn >>> 5] + popcount(bits[pfn >>> 5] & ((1 << (pfn & 31)) - 1)),
  };
}

function sortedIndex(lists: readonly ArrayLike<number>[]): FrameIndex {
  const all = Float64Array.from(lists.flatMap((list) => Array.from(list))).sort();
  let n = 0;
  for (let i = 0; i < all.length; i++) if (i === 0 || all[i] !== all[i - 1]) all[n++] = all[i];
  const ascending = all.slice(0, n);
  return {
    ascending,
    positionOf(pfn) {
      let lo = 0;
      let hi = ascending.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (ascending[mid] < pfn) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    },
  };
}

/** Set bits of a 32-bit word. */
function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}
