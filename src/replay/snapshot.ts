/**
 * Snapshots in the oracle's shape (ksm_script.py's Snapper): every sysfs file, cow_ksm, the global
 * rmap_items, and per guest its ksm_stat, smaps KSM kB and page map. The page map uses the oracle's
 * letters: A-Z, a-z for KSM pages (one letter per physical page, given in order of first
 * appearance, kept while the page is seen from one snapshot to the next, never reused), '.' an
 * anonymous page mapped once, ':' one mapped more than once (COW-shared after fork), '0' the zero
 * page, '-' nothing mapped.
 */
import type { Ksm } from '../ksm.js';
import type { AddressSpace } from '../space.js';
import { KSM_STAT_FIELDS } from './script.js';

const MAP_LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export type KsmStatRecord = Record<typeof KSM_STAT_FIELDS[number], number | string>;

export interface GuestSnapshot {
  index: number;
  alive: boolean;
  ksm_stat?: KsmStatRecord;
  /** smaps_rollup "KSM:": kB of KSM pages mapped (KSM zero pages not counted, as on 6.18). */
  smaps_ksm_kb?: number;
  map?: string;
  /** kpagecount of each KSM letter in this guest's map. */
  mapcounts?: Record<string, number>;
}

export interface Snapshot {
  /** Every file of /sys/kernel/mm/ksm, by name (sorted, as the oracle lists them). */
  ksm: Record<string, number | string>;
  /** /proc/vmstat's KSM lines. */
  vm: { cow_ksm: number; ksm_swpin_copy: number };
  /** The global rmap item count (exited guests' items included until ksmd frees them). */
  rmap_items: number;
  /** Sum of the live guests' ksm_rmap_items. */
  rmap_items_live_sum: number;
  guests: GuestSnapshot[];
  /** Batch steps and scan steps: which batch of the step this snapshot follows. */
  batch_in_step?: number;
  scan_completed?: boolean;
}

/** The harness's view of one guest (a process in the oracle, an address space here). */
export interface ReplayGuest {
  index: number;
  space: AddressSpace;
  pages: number;
  alive: boolean;
  /** What each page must read back as; null where the page was dropped (dontneed, munmap). */
  expected: (Uint8Array | null)[];
  /**
   * Pages read while not present. The kernel maps its zero page on such a read fault (map '0');
   * the engine models no read faults (an absent page stays absent and reads as zeros), so the
   * replay remembers them until the page is written or dropped.
   */
  readFaulted: Uint8Array;
  parent: number | null;
  bornAtStep: number | null;
  diedAtStep: number | null;
}

/** Takes snapshots; keeps the letter of each KSM frame from one snapshot to the next. */
export class Snapper {
  #letters = new Map<number, string>();
  #next = 0;

  constructor(private readonly ksm: Ksm, private readonly guests: readonly ReplayGuest[]) {}

  #letter(frame: number, seen: Map<number, string>): string {
    let letter = this.#letters.get(frame);
    if (letter === undefined) {
      const i = this.#next++;
      letter = i < MAP_LETTERS.length ? MAP_LETTERS[i] : `<${i}>`;
      this.#letters.set(frame, letter);
    }
    seen.set(frame, letter);
    return letter;
  }

  #pageMap(g: ReplayGuest, seen: Map<number, string>): { map: string; mapcounts: Record<string, number>; ksmPages: number } {
    let map = '';
    let ksmPages = 0;
    const mapcounts: Record<string, number> = {};
    for (let p = 0; p < g.pages; p++) {
      const info = g.space.pageInfo(p);
      switch (info.mapping) {
        case 'unmapped': map += '-'; break;
        case 'absent': map += g.readFaulted[p] ? '0' : '-'; break;
        case 'zero': map += '0'; break;
        case 'private': map += '.'; break;
        case 'cow': map += ':'; break;
        case 'ksm': {
          const c = this.#letter(info.frame, seen);
          map += c;
          mapcounts[c] = info.mapcount;
          ksmPages++;
          break;
        }
      }
    }
    return { map, mapcounts, ksmPages };
  }

  take(extra: Pick<Snapshot, 'batch_in_step' | 'scan_completed'> = {}): Snapshot {
    const sysfs = this.ksm.sysfs();
    const ksm: Record<string, number | string> = {};
    for (const name of Object.keys(sysfs).sort()) ksm[name] = sysfs[name];
    const stats = this.ksm.stats();
    const seen = new Map<number, string>();
    const guests: GuestSnapshot[] = this.guests.map((g) => {
      if (!g.alive) return { index: g.index, alive: false };
      const st = g.space.ksmStat();
      const { map, mapcounts, ksmPages } = this.#pageMap(g, seen);
      return {
        index: g.index,
        alive: true,
        ksm_stat: {
          ksm_rmap_items: st.ksmRmapItems,
          ksm_zero_pages: st.ksmZeroPages,
          ksm_merging_pages: st.ksmMergingPages,
          ksm_process_profit: st.ksmProcessProfit,
          ksm_merge_any: st.ksmMergeAny ? 'yes' : 'no',
          ksm_mergeable: st.ksmMergeable ? 'yes' : 'no',
        },
        smaps_ksm_kb: ksmPages * 4,
        map,
        mapcounts,
      };
    });
    // A KSM frame that was not seen now gets a new letter if it ever shows up again (a new page).
    this.#letters = new Map([...this.#letters].filter(([frame]) => seen.has(frame)));
    return {
      ksm,
      vm: { cow_ksm: stats.cowKsm, ksm_swpin_copy: 0 },
      rmap_items: stats.rmapItems,
      rmap_items_live_sum: guests.reduce((sum, g) => sum + ((g.ksm_stat?.ksm_rmap_items as number | undefined) ?? 0), 0),
      guests,
      ...extra,
    };
  }
}

/** One line per snapshot, the oracle's log format (maps shortened past `mapWidth` characters). */
export function snapLine(s: Snapshot, mapWidth = 48): string {
  const k = s.ksm;
  const maps = s.guests.filter((g) => g.alive).map((g) => {
    const m = g.map ?? 'x';
    return `g${g.index}:${m.length > mapWidth ? `${m.slice(0, mapWidth)}…` : m}`;
  }).join(' ');
  return `fs=${k.full_scans} sc=${k.pages_scanned} shared=${k.pages_shared} sharing=${k.pages_sharing} ` +
    `unsh=${k.pages_unshared} vol=${k.pages_volatile} zero=${k.ksm_zero_pages} ch/dup=${k.stable_node_chains}/${k.stable_node_dups} ` +
    `rmap=${s.rmap_items} cow=${s.vm.cow_ksm} | ${maps || '(no live guest)'}`;
}
