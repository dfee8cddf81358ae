// The memory tier: hot page payloads in a pinned arena above LevelDB, local to this member (no
// consensus: which pages are hot here is this replica's business).
//
// - Memory: `arenaBytes` allocated once at startup as pinned regions (one per NUMA node, see
//   pinned-memory.ts), carved by the slab allocator (slab-arena.ts) into size-class slots. No
//   payload memory is allocated per request; a region is released when the tier closes and no
//   reader holds any of it.
// - Reads return leases. A hit takes a reference on the page's slot, so eviction can never reuse
//   the slot while the reader (a GetPages stream) still sends from it; `release()` drops it
//   (idempotent). A hit's bytes are checked against the page's crc32c before they are handed out:
//   a corrupt copy is dropped and the page read again from LevelDB, never served.
// - A miss is read from LevelDB by the store and promoted: copied into a slot (the least recently
//   used slots make room; never a held one) and served from there. When no slot can be had (the
//   page is too large, or every candidate is held) the page is served from LevelDB's bytes and not
//   cached: no error.
// - Correctness against changes: pages are immutable, so a cached copy can only become wrong by
//   leaving the store. The store invalidates the tier for every delete, eviction and namespace
//   drop it applies, and the member clears it when a snapshot replaces the store. A miss in flight
//   while such a change is applied may have read the old state; it is marked and not promoted (its
//   own answer, a read ordered before the change, is still correct). So a page gone from LevelDB
//   is never served from the tier afterwards.
// - Shared memory: when the arena's regions are shared-memory files (pinned-memory.ts), a lease
//   also says where its bytes are (`location`: region and offset), so a reader on this host can
//   copy them from its own mapping while the lease keeps the slot from being reused
//   (src/store/shared-leases.ts holds such leases for remote processes). The files are removed
//   when the tier closes; mappings that readers still hold stay valid until they unmap.
import { crc32c, hex, type PageMeta } from '../codec/index.js';
import type { PinnedRegion, SharedRegionFile } from '../native/index.js';
import { SlabArena, type SlabArenaStats, type Slot } from './slab-arena.js';

/** A page being read: its bytes stay valid and unchanged until `release()`. */
export interface PageLease {
  readonly meta: PageMeta;
  /** The payload: a view into an arena slot (`fromTier`) or LevelDB's buffer. Do not write to it. */
  readonly data: Uint8Array;
  /** Served from the memory tier (a hit, or a miss just promoted). */
  readonly fromTier: boolean;
  /**
   * This read made the tier's check of `data` against meta.crc32c (or read it from LevelDB,
   * which checks): false for a hit read with `check: false`, handed out unread to a reader that
   * checks its own copy, and for a copy another read promoted while this one read LevelDB.
   */
  readonly checked: boolean;
  /** Where `data` is in the arena (set when fromTier): region index and byte offset in it. */
  readonly location?: SlotLocation;
  /** Ends the lease; the slot may be reused afterwards. Safe to call more than once. */
  release(): void;
}

export interface SlotLocation {
  readonly region: number;
  readonly offset: number;
}

/** An arena whose regions are shared-memory files: one per region, in region order. */
export interface SharedArena {
  /** Drawn at every start, written at each file's start (SHARED_ARENA_HEADER of src/native/shared-file.ts). */
  readonly nonce: Uint8Array;
  readonly files: readonly SharedRegionFile[];
}

/** One region of the arena: src/native's PinnedRegion (the addon's, or the fallback's plain memory). */
export type ArenaRegion = PinnedRegion;

/** Where the arena's memory comes from (pinned-memory.ts in a member; plain buffers in tests). */
export interface ArenaMemory {
  regions: ArenaRegion[];
  /** Set when the regions are shared-memory files. */
  shared?: SharedArena;
  /** Removes the shared files (no new reader can map them); mappings stay valid. Idempotent. */
  unlinkFiles?: () => void;
  /** Gives the memory back. Called once, when no view into it is in use any more. */
  release(): void;
}

export interface MemoryTierOptions {
  memory: ArenaMemory;
  slabBytes?: number;
  slotBytesMin?: number;
  /** Check a hit's bytes against its crc32c before serving them (default true). */
  verifyHits?: boolean;
  log?: (line: string) => void;
}

export interface MemoryTierStats {
  /** False when the arena has no memory (arenaBytes 0): every read goes to LevelDB. */
  enabled: boolean;
  /** Bytes of the arena's slabs. */
  arenaBytes: number;
  /** Bytes of the slots holding cached pages (slot sizes, so internal fragmentation included). */
  usedBytes: number;
  cachedPages: number;
  /** Payload bytes of the cached pages. */
  cachedBytes: number;
  /** Reads served from the arena. */
  hits: number;
  /** Reads of a page that was not in the arena (served from LevelDB, promoted when possible). */
  misses: number;
  /** hits / (hits + misses); 0 before the first read. */
  hitRatio: number;
  promotions: number;
  /** Misses not cached: the page was too large or every slot that could make room was held. */
  promotionsSkipped: number;
  evictions: number;
  /** Cached pages dropped because they left the store (delete, eviction, drop, snapshot install). */
  invalidations: number;
  /** Hits whose bytes failed their crc32c (dropped and read from LevelDB instead). */
  corruptHits: number;
  /** Leases not yet released. */
  leasesHeld: number;
  /** Every region is mlocked (and there is at least one). */
  mlocked: boolean;
  /** The NUMA node each region's memory is on (null: unknown, e.g. not bound on a multi-node machine). */
  numaNodes: (number | null)[];
  hugePageAligned: boolean;
  cudaRegistered: boolean;
  /** Why memory is not mlocked or bound, from the allocator ('' when all is well). */
  note: string;
  /** The largest page the arena can cache. */
  pageBytesMax: number;
  /** The shared-memory files of the arena; null when it is private memory (or off). */
  shared: SharedArena | null;
}

interface Entry {
  readonly id: string;
  readonly ns: string;
  readonly meta: PageMeta;
  readonly slot: Slot;
}

/** A read that missed and is reading LevelDB; `stale` once a change may have made what it reads old. */
export interface MissTicket {
  readonly id: string;
  readonly ns: string;
  stale: boolean;
}

const NO_MEMORY: ArenaMemory = Object.freeze({ regions: [], release: () => undefined });

export class MemoryTier {
  readonly #arena: SlabArena;
  readonly #memory: ArenaMemory;
  readonly #entries = new Map<string, Entry>();
  readonly #pending = new Set<MissTicket>();
  readonly #verifyHits: boolean;
  readonly #log: (line: string) => void;
  #closed = false;
  #memoryReleased = false;
  #leasesHeld = 0;
  #cachedBytes = 0;
  #hits = 0;
  #misses = 0;
  #promotions = 0;
  #promotionsSkipped = 0;
  #invalidations = 0;
  #corruptHits = 0;

  constructor(o: MemoryTierOptions) {
    this.#memory = o.memory;
    this.#verifyHits = o.verifyHits ?? true;
    this.#log = o.log ?? (() => undefined);
    this.#arena = new SlabArena({
      regions: o.memory.regions.map((r) => r.buffer),
      ...(o.slabBytes === undefined ? {} : { slabBytes: o.slabBytes }),
      ...(o.slotBytesMin === undefined ? {} : { slotBytesMin: o.slotBytesMin }),
      // The arena already reclaimed the slot; only the index entry goes.
      onEvict: (owner) => this.#forget(owner as Entry),
    });
  }

  /** A tier with no memory: every read is a miss served from LevelDB (arenaBytes 0). */
  static disabled(): MemoryTier {
    return new MemoryTier({ memory: NO_MEMORY });
  }

  get enabled(): boolean {
    return this.#arena.stats().slabs > 0 && !this.#closed;
  }

  /**
   * A lease on the cached page, or undefined (not cached, or its copy failed its checksum). With
   * `check` false the copy is not read: for a reader that checks the bytes it copies itself. With
   * `count` false a hit is not counted (a read made again, counted the first time).
   */
  get(ns: string, key: Uint8Array, check = true, count = true): PageLease | undefined {
    const entry = this.#entries.get(entryId(ns, key));
    if (entry === undefined) return undefined;
    const checking = check && this.#verifyHits;
    if (checking && crc32c(entry.slot.data) !== entry.meta.crc32c) {
      this.#corruptHits++;
      this.#log(`memory tier: dropped a corrupt copy of page ${hex(key)} in namespace ${ns}; reading it from LevelDB`);
      this.#drop(entry);
      return undefined;
    }
    if (count) this.#hits++;
    return this.#lease(entry, check);
  }

  /** Call before reading a missed page from LevelDB; hand the ticket to `finishMiss` or `abandonMiss`. */
  startMiss(ns: string, key: Uint8Array): MissTicket {
    const ticket: MissTicket = { id: entryId(ns, key), ns, stale: false };
    this.#pending.add(ticket);
    return ticket;
  }

  /** The miss found nothing (or failed): forget the ticket. */
  abandonMiss(ticket: MissTicket): void {
    this.#pending.delete(ticket);
  }

  /**
   * The page read from LevelDB (checksum verified by the store) for a miss: promoted into a slot
   * and leased from there, or leased from `data` itself when it cannot be cached. With `count`
   * false the miss is not counted (a read made again, counted the first time).
   */
  finishMiss(ticket: MissTicket, meta: PageMeta, data: Uint8Array, count = true): PageLease {
    this.#pending.delete(ticket);
    if (count) this.#misses++;
    if (!this.enabled) return directLease(meta, data);
    if (ticket.stale) {
      this.#promotionsSkipped++;
      return directLease(meta, data);
    }
    // Another read of the same page may have promoted it meanwhile.
    const cached = this.#entries.get(ticket.id);
    if (cached !== undefined) return this.#lease(cached, false);
    const slot = this.#arena.alloc(data.byteLength, undefined);
    if (slot === undefined) {
      this.#promotionsSkipped++;
      return directLease(meta, data);
    }
    slot.data.set(data);
    const entry: Entry = { id: ticket.id, ns: meta.ns, meta, slot };
    slot.owner = entry;
    this.#entries.set(entry.id, entry);
    this.#cachedBytes += data.byteLength;
    this.#promotions++;
    // The bytes just copied in are the ones the store checked.
    return this.#lease(entry, true);
  }

  /** Pages `keys` of `ns` left the store: drop their copies; misses in flight for them are not promoted. */
  invalidate(ns: string, keys: Uint8Array[]): void {
    const ids = new Set(keys.map((key) => entryId(ns, key)));
    for (const id of ids) {
      const entry = this.#entries.get(id);
      if (entry !== undefined) this.#drop(entry, true);
    }
    for (const ticket of this.#pending) if (ids.has(ticket.id)) ticket.stale = true;
  }

  /** Namespace `ns` was dropped. */
  invalidateNamespace(ns: string): void {
    for (const entry of [...this.#entries.values()]) if (entry.ns === ns) this.#drop(entry, true);
    for (const ticket of this.#pending) if (ticket.ns === ns) ticket.stale = true;
  }

  /** The store was replaced (snapshot install): drop everything. Held slots are freed at their release. */
  clear(): void {
    for (const entry of [...this.#entries.values()]) this.#drop(entry, true);
    for (const ticket of this.#pending) ticket.stale = true;
  }

  /**
   * Stops caching and gives the memory back, at once or when the last lease is released (a
   * GetPages stream may still be sending from a slot). Reads after close go to LevelDB.
   */
  close(): void {
    if (this.#closed) return;
    this.clear();
    this.#closed = true;
    this.#memory.unlinkFiles?.();
    this.#maybeReleaseMemory();
  }

  stats(): MemoryTierStats {
    const arena: SlabArenaStats = this.#arena.stats();
    const regions = this.#memory.regions;
    const reads = this.#hits + this.#misses;
    return {
      enabled: this.enabled,
      arenaBytes: arena.bytes,
      usedBytes: arena.usedBytes,
      cachedPages: this.#entries.size,
      cachedBytes: this.#cachedBytes,
      hits: this.#hits,
      misses: this.#misses,
      hitRatio: reads === 0 ? 0 : this.#hits / reads,
      promotions: this.#promotions,
      promotionsSkipped: this.#promotionsSkipped,
      evictions: arena.evictions,
      invalidations: this.#invalidations,
      corruptHits: this.#corruptHits,
      leasesHeld: this.#leasesHeld,
      mlocked: regions.length > 0 && regions.every((r) => r.mlocked),
      numaNodes: regions.map((r) => r.numaNode),
      hugePageAligned: regions.length > 0 && regions.every((r) => r.hugePageAligned),
      cudaRegistered: regions.length > 0 && regions.every((r) => r.cudaRegistered),
      note: [...new Set(regions.map((r) => r.note).filter((n) => n !== ''))].join('; '),
      pageBytesMax: this.#arena.maxAllocBytes,
      shared: this.#closed ? null : (this.#memory.shared ?? null),
    };
  }

  /** Test hook: the arena's structural checks (slab-arena.ts checkInvariants). */
  checkInvariants(): void {
    this.#arena.checkInvariants();
    for (const entry of this.#entries.values()) {
      if (entry.slot.state !== 'used' || entry.slot.owner !== entry) throw new Error(`memory tier: entry ${entry.id} lost its slot`);
    }
  }

  #lease(entry: Entry, checked: boolean): PageLease {
    const slot = entry.slot;
    this.#arena.acquire(slot);
    this.#leasesHeld++;
    let released = false;
    return {
      meta: entry.meta,
      data: slot.data,
      fromTier: true,
      checked,
      location: { region: slot.region, offset: slot.offset },
      release: () => {
        if (released) return;
        released = true;
        this.#leasesHeld--;
        this.#arena.release(slot);
        this.#maybeReleaseMemory();
      },
    };
  }

  #forget(entry: Entry): void {
    this.#entries.delete(entry.id);
    this.#cachedBytes -= entry.meta.bytes;
  }

  #drop(entry: Entry, invalidated = false): void {
    this.#forget(entry);
    this.#arena.free(entry.slot);
    if (invalidated) this.#invalidations++;
  }

  #maybeReleaseMemory(): void {
    if (!this.#closed || this.#memoryReleased || this.#leasesHeld > 0) return;
    this.#memoryReleased = true;
    this.#memory.release();
  }
}

function directLease(meta: PageMeta, data: Uint8Array): PageLease {
  return { meta, data, fromTier: false, checked: true, release: () => undefined };
}

/** The index key of a page: namespaces never contain NUL (validated at the edge), keys as hex. */
function entryId(ns: string, key: Uint8Array): string {
  return `${ns}\0${hex(key)}`;
}
