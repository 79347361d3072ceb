// The memory map of the core, and the layout of every record in it. Offsets are chained here and
// exported through index.ts, so the TypeScript driver reads them instead of repeating them.
//
//   0          64 KiB     68 KiB     72 KiB     136 KiB     168 KiB          +256 KiB      frameTableEnd
//   ┌──────────┬──────────┬──────────┬──────────┬───────────┬────────────────┬─────────────┬──────────···
//   │ AS static│ counters │ the zero │ scratch  │ domain    │ space table    │ frame table │ blocks of
//   │ data     │          │ frame    │ (driver's│ table:    │ MAX_SPACES ×   │ 8 B per     │ 4 KiB: frames,
//   │          │          │ (zeros)  │ to use)  │ tree roots│ 64 B           │ frame (pfn) │ tables, slabs
//   └──────────┴──────────┴──────────┴──────────┴───────────┴────────────────┴─────────────┴──────────···
//
// A frame's number (pfn) is its address >> 12. Records (stable nodes) are 28 bytes (32 in the
// fingerprint engine), carved from blocks; rmap items are 24 bytes in the item areas of the page
// tables. An address is the identity of each.

export const PAGE_SHIFT: u32 = 12;
export const PAGE_SIZE: u32 = 1 << PAGE_SHIFT;
/** Bytes per WebAssembly memory page. */
export const WASM_PAGE: u32 = 65536;

// ---- the regions -------------------------------------------------------------------------------

/** Where the core's own data starts; AssemblyScript's static data must fit below. */
export const BASE_LOCATION: u32 = 0x10000;
export const COUNTERS_LOCATION: u32 = BASE_LOCATION;
/** How many i64 counter cells there are (see the C_* indices). */
export const COUNTERS_COUNT: u32 = 32;
export const COUNTERS_SIZE: u32 = COUNTERS_COUNT * 8;
export const ZERO_FRAME_LOCATION: u32 = BASE_LOCATION + PAGE_SIZE;
/** Bytes the driver may use freely (tests and benchmarks hand pages to the primitives here). */
export const SCRATCH_LOCATION: u32 = ZERO_FRAME_LOCATION + PAGE_SIZE;
export const SCRATCH_SIZE: u32 = 16 * PAGE_SIZE;
/**
 * Sharing domains: pages of spaces in different domains never share a KSM frame. Each domain has
 * its own stable and unstable tree (as merge_across_nodes=0 gives each NUMA node its own), under
 * the one cursor and batch budget. Domain 0 is the default domain; ids are 0..MAX_DOMAINS-1.
 */
export const DOMAINS_LOCATION: u32 = SCRATCH_LOCATION + SCRATCH_SIZE;
export const MAX_DOMAINS: u32 = 4096;
/** A domain's record: its stable tree's root (u32), then its unstable tree's root (u32). */
export const DOMAIN_SIZE: u32 = 8;
export const D_STABLE_ROOT: u32 = 0;
export const D_UNSTABLE_ROOT: u32 = 4;
export const DEFAULT_DOMAIN: u32 = 0;
export const DOMAINS_SIZE: u32 = MAX_DOMAINS * DOMAIN_SIZE;
export const SPACES_LOCATION: u32 = DOMAINS_LOCATION + DOMAINS_SIZE;
/** Space ids are 1..MAX_SPACES-1; id 0 is the head of the scanner's slot list. */
export const MAX_SPACES: u32 = 4096;
export const SPACE_SIZE: u32 = 64;
export const SPACES_SIZE: u32 = MAX_SPACES * SPACE_SIZE;
export const FRAME_TABLE_LOCATION: u32 = SPACES_LOCATION + SPACES_SIZE;
/**
 * Per block number (address >> 12): mapcount (u32) and the stable node of a KSM page (u32, 0 if
 * not KSM) when the block is a frame; a page table's owner and flags when it is one.
 */
export const FRAME_ENTRY_SIZE: u32 = 8;

// ---- the two builds -------------------------------------------------------------------------------
//
// The same sources build two engines (asconfig.json): the page engine (FINGERPRINTS=0), whose
// frames are 4 KiB pages compared byte by byte, and the fingerprint engine (FINGERPRINTS=1), whose
// frames are fingerprint frames (below) compared by fingerprint, for frozen inputs
// (docs/fingerprints.md). Only contents.ts and alloc.ts's frame functions tell them apart.

/** 1 in the fingerprint engine's build (asc --use FINGERPRINTS=1), else 0. */
export const ENGINE_FINGERPRINTS: u32 = FINGERPRINTS ? 1 : 0;

// A fingerprint frame (fingerprint engine only), at FP frames base + pfn * FP_FRAME_SIZE:
//
//   ┌──────────────────────┬──────────────────────┬──────────────────────────────────┐
//   │ fingerprint low u64  │ fingerprint high u64 │ mapcount << 1, or stable node | 1│
//   │ 0                    │ 8                    │ 16                               │
//   └──────────────────────┴──────────────────────┴──────────────────────────────────┘
// The page's contents are its fingerprint (its low 32 bits are the kernel's checksum). The last
// word holds what a page frame's frame-table entry holds in two: a frame that is no KSM page keeps
// its mapcount there (shifted left, low bit 0), a KSM page its stable node's address (records are
// 4-byte aligned) with the low bit set, and its mapcount in the node (N_MAPCOUNT): 4 bytes a frame
// less, 4 a KSM page more. pfns below FP_FIRST_PFN are not allocated: the zero frame's number
// (ZERO_FRAME_LOCATION >> 12) holds the zero page's fingerprint.

export const FP_FRAME_SIZE: u32 = 20;
export const FP_FRAME_META: u32 = 16;
/** The low bit of a fingerprint frame's meta word: the rest is its stable node's address. */
export const FP_META_KSM: u32 = 1;
/** Frame numbers of the fingerprint engine: below 2^24 (a page-table entry's and a stable node's pfn bits). */
export const FP_MAX_FRAMES: u32 = 1 << 24;
/** The first pfn handed out (the ones below are the zero frame's number and unused). */
export const FP_FIRST_PFN: u32 = (ZERO_FRAME_LOCATION >> PAGE_SHIFT) + 1;
/** Pages one fingerprint engine holds at most: a frame each, and one more for a copy-on-write in flight. */
export const FP_MAX_PAGES: u32 = FP_MAX_FRAMES - FP_FIRST_PFN - 1;
/** The frame region is sized for one frame per this many bytes of the memory cap. */
export const FP_CAP_BYTES_PER_FRAME: u32 = 64;

// ---- counters (i64 at COUNTERS_LOCATION + index * 8) --------------------------------------------

export const C_PAGES_SHARED: u32 = 0;
export const C_PAGES_SHARING: u32 = 1;
export const C_PAGES_UNSHARED: u32 = 2;
export const C_RMAP_ITEMS: u32 = 3;
export const C_PAGES_SCANNED: u32 = 4;
export const C_PAGES_SKIPPED: u32 = 5;
export const C_FULL_SCANS: u32 = 6;
export const C_CHAINS: u32 = 7;
export const C_DUPS: u32 = 8;
export const C_ZERO_PAGES: u32 = 9;
export const C_COW_KSM: u32 = 10;
// The library's own live figures:
export const C_FRAMES_IN_USE: u32 = 11;
export const C_KSM_FRAMES: u32 = 12;
export const C_MAPPED_PAGES: u32 = 13;
export const C_RECORDS_IN_USE: u32 = 14;
/** Whole transparent huge pages now (leaves flagged LEAF_WHOLE_HUGE). */
export const C_HUGE_PAGES: u32 = 15;
/** pageInfo() answers in cells 16..23: mapping, frame, mapcount, mergeable, item state, age, skips, huge. */
export const C_PAGE_INFO: u32 = 16;
/** spaceInfo() answers in cells 24..28: rmap items, merging pages, zero pages, mergeable, flags. */
export const C_SPACE_INFO: u32 = 24;
/** Huge pages split so far (the kernel's thp_split_page), and entries a split mapped to the zero page now. */
export const C_THP_SPLITS: u32 = 29;
export const C_SPLIT_ZERO_PAGES: u32 = 30;
/** memoryInfo() answers here too: blocks of item areas in use. */
export const C_ITEM_AREA_BLOCKS: u32 = 31;

// What pageInfo() says a page maps (cell C_PAGE_INFO), and the state of its rmap item (+4).
export const MAPPING_UNMAPPED: u32 = 0;
export const MAPPING_ABSENT: u32 = 1;
export const MAPPING_PRIVATE: u32 = 2;
export const MAPPING_COW: u32 = 3;
export const MAPPING_KSM: u32 = 4;
export const MAPPING_ZERO: u32 = 5;
export const MAPPING_SPLIT_ZERO: u32 = 6;
export const ITEM_STATE_NONE: u32 = 0;
export const ITEM_STATE_VOLATILE: u32 = 1;
export const ITEM_STATE_UNSTABLE: u32 = 2;
export const ITEM_STATE_STABLE: u32 = 3;
export const ITEM_STATE_SKIPPED: u32 = 4;

// ---- a space (SPACES_LOCATION + id * SPACE_SIZE) ------------------------------------------------
//
//   ┌──────────┬─────────┬──────────┬─────────┬─────────┬──────────┬──────────┬──────────┬────────────┬────────┐
//   │ flags    │ pages   │ dir      │ prev id │ next id │ rmap     │ merging  │ zero     │ mergeable  │ domain │
//   │ 0        │ 4       │ 8        │ 12      │ 16      │ 20       │ 24       │ 28       │ 32         │ 36     │
//   └──────────┴─────────┴──────────┴─────────┴─────────┴──────────┴──────────┴──────────┴────────────┴────────┘
// prev/next link the slot list (when REGISTERED); rmap/merging/zero are ksm_stat's fields;
// mergeable counts mapped pages flagged mergeable; domain is the sharing domain (fork inherits it).

export const S_FLAGS: u32 = 0;
export const S_PAGES: u32 = 4;
export const S_DIR: u32 = 8;
export const S_PREV: u32 = 12;
export const S_NEXT: u32 = 16;
export const S_RMAP_ITEMS: u32 = 20;
export const S_MERGING: u32 = 24;
export const S_ZERO: u32 = 28;
export const S_MERGEABLE: u32 = 32;
export const S_DOMAIN: u32 = 36;

export const SPACE_ALIVE: u32 = 1;
/** exit() was called; the slot waits for ksmd. */
export const SPACE_EXITING: u32 = 2;
/** Has a slot in the scanner's list (the kernel's MMF_VM_MERGEABLE). */
export const SPACE_REGISTERED: u32 = 4;
/** PR_SET_MEMORY_MERGE. */
export const SPACE_MERGE_ANY: u32 = 8;

// ---- page tables ----------------------------------------------------------------------------------
// A space's directory is one block of 1024 leaf addresses; a leaf is 512 ptes of 4 bytes (2 KiB),
// and two consecutive leaves of a space share one block, a leaf pair:
//
//   pte:   ┌──────────────────────────────────────────┬───────────────────┐
//          │ M G . . . S Z │ pfn (24 bits)            │
//          │ bit 30 29 25 24           0              │
//          └──────────────────────────────────────────┘
//   M: PTE_MAPPED, G: PTE_MERGEABLE, Z: PTE_ZERO (the KSM zero page), S: PTE_SPLIT_ZERO (the shared
//   zero page, mapped by a huge-page split for a zero-filled subpage). pfn 0: no frame.
//
// A leaf covers 512 pages, the span of one transparent huge page. The pair's block keeps, in its
// frame-table entry, its space (blockOwner) and the address of the pair's item area with the two
// leaves' flags (LEAF_*, one bit each: the first leaf's in bit 0, the second's in bit 1) in its low bits.
//
// The item area: the rmap items of the pair's 1024 pages, ITEM_SIZE bytes each at a place fixed by
// the page (first leaf's pages, then the second's), six blocks handed out with the pair's first item.
// A page and its item find each other by arithmetic, so neither keeps the other's address; the
// area's blocks keep the pair's block in their frame-table entries.

export const DIR_ENTRIES: u32 = 1024;
export const LEAF_SHIFT: u32 = 9;
export const LEAF_ENTRIES: u32 = 1 << LEAF_SHIFT;
export const ENTRY_SIZE: u32 = 4;
export const E_PTE: u32 = 0;
/** Bytes of one leaf's ptes: half a block. */
export const LEAF_BYTES: u32 = LEAF_ENTRIES * ENTRY_SIZE;
export const MAX_SPACE_PAGES: u32 = DIR_ENTRIES * LEAF_ENTRIES;
/** The leaf's 512 pages are one whole transparent huge page (not split yet). */
export const LEAF_WHOLE_HUGE: u32 = 1;
/** Pages per transparent huge page. */
export const HUGE_PAGE_PAGES: u32 = LEAF_ENTRIES;

export const PTE_PFN_MASK: u32 = 0x00ffffff;
export const PTE_ZERO: u32 = 1 << 24;
export const PTE_SPLIT_ZERO: u32 = 1 << 25;
export const PTE_MERGEABLE: u32 = 1 << 29;
export const PTE_MAPPED: u32 = 1 << 30;

/** Bytes of an rmap item, in its item area. */
export const ITEM_SIZE: u32 = 24;
/** Bytes of one leaf's items in an item area; the second leaf's start after them. */
export const ITEM_AREA_HALF: u32 = LEAF_ENTRIES * ITEM_SIZE;
/** Blocks of an item area (the items of a leaf pair: 2 × 512 × 24 bytes). */
export const ITEM_AREA_BLOCKS: u32 = (2 * ITEM_AREA_HALF) >> PAGE_SHIFT;

// ---- records: 28 bytes (32 in the fingerprint engine), from slabs -----------------------------

// Stable nodes (and chains) are records; rmap items live in item areas (above). Both keep the key
// (I_KEY, N_KEY): in the fingerprint engine it saves a frame load per descent step.

/** The page engine's records and the fingerprint engine's (whose stable nodes also keep their KSM page's mapcount). */
export const PAGE_ENGINE_RECORD_SIZE: u32 = 28;
export const FP_ENGINE_RECORD_SIZE: u32 = 32;
export const RECORD_SIZE: u32 = FINGERPRINTS ? FP_ENGINE_RECORD_SIZE : PAGE_ENGINE_RECORD_SIZE;
export const RECORDS_PER_BLOCK: u32 = PAGE_SIZE / RECORD_SIZE;

// The first three words are the red-black link in both kinds of record (rbtree.ts):
export const RB_LEFT: u32 = 0;
export const RB_RIGHT: u32 = 4;
/** Parent address | colour in bit 0 (RB_BLACK). */
export const RB_PARENT: u32 = 8;
export const RB_BLACK: u32 = 1;

// An rmap item: one per (space, page) the scanner has found present, at its page's place in the
// item area of the page's leaf pair.
//
//   ┌──────────┬──────────┬──────────┬──────────┬─────┬───────┬───────┬─────┬──────────┐
//   │ left     │ right    │ parent|c │ checksum │ age │ skips │ flags │ seq │ key      │
//   │ node     │ next     │ prev     │          │ u8  │ u8    │ u8    │ u8  │          │
//   │ 0        │ 4        │ 8        │ 12       │ 16  │ 17    │ 18    │ 19  │ 20       │
//   └──────────┴──────────┴──────────┴──────────┴─────┴───────┴───────┴─────┴──────────┘
// Words 0..8 are the unstable-tree link when UNSTABLE, and {stable node, next, prev in the node's
// list} when STABLE. Its page-table entry, and so its space (blockOwner of the leaf pair), follow
// from its place (rmap.ts, itemEntry). ITEM_LIVE marks a place that holds an item. seq is
// full_scans & 0xff at insertion into the unstable tree. key holds the page's contentsKey (page
// engine: first 4 bytes, big-endian, so integer order is memcmp order; fingerprint engine: the
// fingerprint's top 32 bits) from the visit that took the checksum; it is valid while ITEM_CLEAN
// holds (no write since).

export const I_NODE: u32 = 0;   // when STABLE
export const I_NEXT: u32 = 4;   // when STABLE
export const I_PREV: u32 = 8;   // when STABLE
export const I_CHECKSUM: u32 = 12;
export const I_AGE: u32 = 16;
export const I_SKIPS: u32 = 17;
export const I_FLAGS: u32 = 18;
export const I_SEQ: u32 = 19;
export const I_KEY: u32 = 20;

export const ITEM_UNSTABLE: u8 = 1;
export const ITEM_STABLE: u8 = 2;
/**
 * The checksum and the key (I_KEY) are those of the page's current contents: both are taken at
 * the visit that sets it, and a write clears it. A descent then takes its key from here, not the
 * page.
 */
export const ITEM_CLEAN: u8 = 4;
/** The last visit was a smart_scan skip (for page maps only). */
export const ITEM_SKIPPED: u8 = 8;
/**
 * The item's last visit searched the stable tree, found no page of its content, and changed
 * nothing on the way (no chain, no stale node, no node of equal content met): a quiet miss
 * (stable-generation.ts). ITEM_MISSED_ODD: that visit was in a pass of odd full_scans.
 */
export const ITEM_MISSED: u8 = 16;
export const ITEM_MISSED_ODD: u8 = 32;
export const ITEM_MISSED_BOTH: u8 = ITEM_MISSED | ITEM_MISSED_ODD;
/** The place in the item area holds an item (a page has one from its first visit until it is freed). */
export const ITEM_LIVE: u8 = 64;

// A stable node: a KSM page (regular, or a dup under a chain), or a chain of dups.
//
//   ┌──────────┬──────────┬──────────┬────────────┬──────────┬─────────────┬──────┬──────────┬──────────────┐
//   │ left     │ right    │ parent|c │ domain|kpfn│ head     │ len (24 b)  │ kind │ key      │ mapcount     │
//   │ dup next │ dup prev │ chain    │ prune time │          │             │ u8   │          │ (fingerprint │
//   │ 0        │ 4        │ 8        │ 12         │ 16       │ 20          │ 23   │ 24       │ engine) 28   │
//   └──────────┴──────────┴──────────┴────────────┴──────────┴─────────────┴──────┴──────────┴──────────────┘
// head: first rmap item (regular, dup) or first dup (chain); len: rmap_hlist_len; a chain keeps its
// last prune time where the others keep kpfn. A frame number has 20 bits (4 GiB of 4 KiB frames):
// the word's top 12 bits hold the node's sharing domain, so a stale node finds its tree's root
// (the kernel keeps a NUMA node id in its stable node for the same reason). key: the page's
// contentsKey, so that most comparisons of a descent are decided without touching a page (equal
// keys: the full compare). The fingerprint engine's nodes have a ninth word, at 28: a KSM page's
// mapcount (its frame keeps the node's address in the word that held it: FP_META_KSM).

export const N_DUP_NEXT: u32 = 0;  // when DUP
export const N_DUP_PREV: u32 = 4;  // when DUP
export const N_CHAIN: u32 = 8;     // when DUP
export const N_KPFN: u32 = 12;
/** 24 bits in the fingerprint engine (its frames are 20 bytes: 2^24 of them, 256 domains). */
export const N_KPFN_BITS: u32 = FINGERPRINTS ? 24 : 20;
export const N_KPFN_MASK: u32 = (1 << N_KPFN_BITS) - 1;
export const N_PRUNE_TIME: u32 = 12; // when CHAIN
export const N_HEAD: u32 = 16;
export const N_LEN: u32 = 20;
export const N_LEN_MASK: u32 = 0x00ffffff;
export const N_KIND: u32 = 23;
export const N_KEY: u32 = 24;
/** Fingerprint engine: a KSM page's mapcount (its frame's meta word points here instead). */
export const N_MAPCOUNT: u32 = 28;

export const NODE_REGULAR: u8 = 0;
export const NODE_CHAIN: u8 = 1;
export const NODE_DUP: u8 = 2;
/** Flag in the kind byte: the node's KSM page was freed (set when it is, so walks need not look it up). */
export const NODE_STALE: u8 = 0x80;

// ---- fingerprint records (fingerprint.ts): one per page of a frozen input -----------------------
//
//   ┌──────────────────────┬──────────────────────┬──────────┬──────────┐
//   │ fingerprint low u64  │ fingerprint high u64 │ checksum │ flags    │
//   │ (the page's XXH64)   │ (32-bit lanes)       │ u32      │ u32      │
//   │ 0                    │ 8                    │ 16       │ 20       │
//   └──────────────────────┴──────────────────────┴──────────┴──────────┘
// checksum is the kernel's (XXH64 truncated to 32 bits); FP_ZERO: all 4096 bytes are zero (the high
// half is then 0, so the zero page sorts first, as in memcmp's order).

export const FP_RECORD_SIZE: u32 = 24;
export const FP_FINGERPRINT_LOW: u32 = 0;
export const FP_FINGERPRINT_HIGH: u32 = 8;
export const FP_CHECKSUM: u32 = 16;
export const FP_FLAGS: u32 = 20;
export const FP_ZERO: u32 = 1;

// ---- the kernel's numbers that cross the boundary -------------------------------------------------

/** madvise() advice, with the kernel's values. */
export const MADV_DONTNEED: u32 = 4;
export const MADV_MERGEABLE: u32 = 12;
export const MADV_UNMERGEABLE: u32 = 13;
/** Make each whole aligned 512-page range of present private pages one transparent huge page. */
export const MADV_COLLAPSE: u32 = 25;

/** The knobs' defaults, as a freshly booted kernel has them (the driver adds the advisor's). */
export const DEFAULT_PAGES_TO_SCAN: u32 = 100;
export const DEFAULT_SLEEP_MILLISECS: u32 = 20;
export const DEFAULT_MAX_PAGE_SHARING: u32 = 256;
export const DEFAULT_STABLE_NODE_CHAINS_PRUNE_MILLISECS: u32 = 2000;

/** Status codes (negative, as the kernel's errno). */
export const E_NOMEM: i32 = -12;

// ---- packed results: one call, one number ---------------------------------------------------------

/** A registering call (madvise MERGEABLE, merge-any) put the first slot on an empty list: ksmd wakes. */
export const REGISTERED_FIRST: i32 = 1;

/** scan() returns scanned × BATCH_SCANNED_UNIT + these flags (an f64, exact below 2^53). */
export const BATCH_SCANNED_UNIT: u32 = 8;
/** The batch ended a full pass (full_scans went up). */
export const BATCH_PASS_ENDED: u32 = 1;
/** The batch stopped early: no memory left for records. */
export const BATCH_NOMEM: u32 = 2;
/** After the batch no slot is left: ksmd waits for work (also when there was none to begin with). */
export const BATCH_NO_SLOTS: u32 = 4;
