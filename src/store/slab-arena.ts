// The slab allocator under the memory tier: fixed memory regions (pinned arenas, one per NUMA
// node) carved into slots of size classes, with reference counts and LRU eviction. It hands out
// views into memory allocated once at startup; a page never causes a JavaScript allocation of
// payload memory (only small bookkeeping objects).
//
// Layout, after memcached's slab allocator:
// - Each region is cut into slabs of `slabBytes` (4 MiB by default). A slab is free, or belongs to
//   one size class and is cut into equal slots of that class, or is one of the consecutive slabs
//   of a span that holds a single page larger than a slab.
// - Size classes run from `slotBytesMin` to `slabBytes` in quarter steps between powers of two
//   (4, 5, 6, 7, 8, 10, 12, 14, 16 KiB ...), so a slot wastes at most a fifth of itself.
// - Each class keeps a free list (first in, first out: freed slots are reused like a ring) and
//   an LRU list of its slots in use. A slab whose slots are all free goes back to the free slabs,
//   so a class that shrinks returns its memory to the others.
// - A page larger than a slab takes a span of consecutive slabs in one region, at most
//   SPAN_SHARE_MAX of the arena; a larger page is not cached.
//
// Eviction. When a class has no free slot, it either evicts its own least recently used slot or
// takes over a whole slab (evicting what the slab holds) - whichever was used longer ago, so the
// classes' shares follow the workload instead of staying where the first pages put them
// (memcached's "slab calcification"). A span takes the window of consecutive slabs whose most
// recent use is oldest. A slot with a reference count above zero is never evicted, reused or
// freed: a slab or window with such a slot is not a candidate, and when every candidate is held
// the allocation fails (the caller then serves from LevelDB without caching).
//
// Reference counts. `acquire` before reading a slot's bytes, `release` after; `free` of a held
// slot only marks it doomed, and its memory is reclaimed by the last release.
import assert from 'node:assert/strict';

/** Default slab size: the unit of memory that moves between size classes. */
export const SLAB_BYTES_DEFAULT = 4 * 1024 * 1024;
/** Default smallest slot; smaller pages take a slot of this size. */
export const SLOT_BYTES_MIN_DEFAULT = 4 * 1024;
/** A page may take at most this share of the arena's slabs; larger pages are not cached. */
export const SPAN_SHARE_MAX = 0.25;
/** Steps between two powers of two in the size classes (4 = quarter steps). */
const CLASS_STEPS_PER_DOUBLING = 4;
/** Least recently used slots of a class looked at for one not held before the class gives up on its own. */
const EVICTION_SCAN_MAX = 64;
/** Slot offsets are multiples of this, so every typed-array view over a slot is aligned. */
const SLOT_ALIGN_BYTES = 64;

export type SlotState = 'free' | 'used' | 'doomed';

/** One slot: a range of one region. Fields are the arena's; callers read `data` and `owner`. */
export interface Slot {
  /** The slot's bytes, `bytes` long (a view; valid while the slot is allocated to you). */
  data: Uint8Array;
  /** What the caller stored with it (the tier's entry); handed to `onEvict`. */
  owner: unknown;
  state: SlotState;
  refs: number;
  readonly region: number;
  readonly offset: number;
  /** Bytes the slot can hold (its class size, or the span's slabs). */
  readonly capacity: number;
  /** First slab of the slot (its slab, for a class slot). */
  readonly slab: number;
  /** The size class, or undefined for a span. */
  readonly cls: SizeClass | undefined;
  /** Slabs of a span (1 for a class slot). */
  readonly slabCount: number;
  lastUse: number;
  prev: Slot | undefined;
  next: Slot | undefined;
}

/** An intrusive doubly linked list of slots: O(1) push at the tail, removal anywhere. */
class SlotList {
  head: Slot | undefined = undefined;
  tail: Slot | undefined = undefined;
  size = 0;

  push(slot: Slot): void {
    slot.prev = this.tail;
    slot.next = undefined;
    if (this.tail) this.tail.next = slot;
    else this.head = slot;
    this.tail = slot;
    this.size++;
  }

  remove(slot: Slot): void {
    if (slot.prev) slot.prev.next = slot.next;
    else this.head = slot.next;
    if (slot.next) slot.next.prev = slot.prev;
    else this.tail = slot.prev;
    slot.prev = undefined;
    slot.next = undefined;
    this.size--;
  }
}

export interface SizeClass {
  readonly bytes: number;
  readonly free: SlotList;
  /** Slots in use, least recently used first (doomed slots are off this list). */
  readonly used: SlotList;
  slabs: number;
}

type SlabKind = 'free' | 'class' | 'span';

interface Slab {
  readonly index: number;
  readonly region: number;
  readonly offset: number;
  kind: SlabKind;
  cls: SizeClass | undefined;
  /** The slots of a class slab; the span's slot for a span slab. */
  slots: Slot[];
  /** Slots allocated (used or doomed) in a class slab. */
  allocated: number;
  /** Slots with a reference count above zero in a class slab. */
  held: number;
  /** Most recent use of any slot in the slab. */
  lastUse: number;
}

export interface SlabArenaOptions {
  /** The memory: each region is cut into whole slabs (a remainder below one slab is unused). */
  regions: ArrayBuffer[];
  slabBytes?: number;
  slotBytesMin?: number;
  /** Called for each slot evicted to make room, with its owner; the slot is reused right after. */
  onEvict: (owner: unknown) => void;
}

export interface SlabArenaStats {
  /** Bytes of all slabs (the usable arena). */
  bytes: number;
  slabs: number;
  freeSlabs: number;
  /** Capacity of the slots allocated (used or doomed), internal fragmentation included. */
  usedBytes: number;
  /** Bytes the callers asked for in those slots. */
  storedBytes: number;
  slotsAllocated: number;
  /** Slots with a reference count above zero. */
  slotsHeld: number;
  evictions: number;
  /** Slabs that changed hands (taken from a class or a span for another). */
  slabMoves: number;
}

export class SlabArena {
  readonly slabBytes: number;
  readonly #regions: ArrayBuffer[];
  readonly #slabs: Slab[] = [];
  /** [first, end) slab indexes of each region. */
  readonly #regionSlabs: [number, number][] = [];
  readonly #classes: SizeClass[] = [];
  readonly #onEvict: (owner: unknown) => void;
  readonly #spanSlabsMax: number;
  #clock = 0;
  #usedBytes = 0;
  #storedBytes = 0;
  #slotsAllocated = 0;
  #slotsHeld = 0;
  #evictions = 0;
  #slabMoves = 0;

  constructor(o: SlabArenaOptions) {
    this.slabBytes = o.slabBytes ?? SLAB_BYTES_DEFAULT;
    const slotBytesMin = o.slotBytesMin ?? SLOT_BYTES_MIN_DEFAULT;
    assert.ok(Number.isSafeInteger(this.slabBytes) && this.slabBytes > 0 && this.slabBytes % SLOT_ALIGN_BYTES === 0, 'slabBytes must be a positive multiple of 64');
    assert.ok(Number.isSafeInteger(slotBytesMin) && slotBytesMin >= SLOT_ALIGN_BYTES && slotBytesMin <= this.slabBytes, 'slotBytesMin must be 64..slabBytes');
    this.#regions = o.regions;
    this.#onEvict = o.onEvict;
    for (const [region, buffer] of o.regions.entries()) {
      const first = this.#slabs.length;
      const count = Math.floor(buffer.byteLength / this.slabBytes);
      for (let i = 0; i < count; i++) {
        this.#slabs.push({ index: first + i, region, offset: i * this.slabBytes, kind: 'free', cls: undefined, slots: [], allocated: 0, held: 0, lastUse: 0 });
      }
      this.#regionSlabs.push([first, first + count]);
    }
    this.#spanSlabsMax = Math.floor(this.#slabs.length * SPAN_SHARE_MAX);
    for (const bytes of classSizes(slotBytesMin, this.slabBytes)) this.#classes.push({ bytes, free: new SlotList(), used: new SlotList(), slabs: 0 });
  }

  /** The largest page `alloc` can place (0 when the arena has no slab). */
  get maxAllocBytes(): number {
    if (this.#slabs.length === 0) return 0;
    const largestRegion = Math.max(...this.#regionSlabs.map(([first, end]) => end - first));
    return Math.max(Math.min(this.#spanSlabsMax, largestRegion), 1) * this.slabBytes;
  }

  /**
   * A slot of at least `bytes` (its `data` is exactly `bytes` long), in use, reference count 0,
   * most recently used; evicts as needed. `undefined` when the page is too large to cache or when
   * every slot that could make room is held.
   */
  alloc(bytes: number, owner: unknown): Slot | undefined {
    assert.ok(Number.isSafeInteger(bytes) && bytes >= 0, `alloc: bad size ${bytes}`);
    if (bytes > this.maxAllocBytes) return undefined;
    const slot = bytes <= this.slabBytes ? this.#allocInClass(this.#classFor(bytes)) : this.#allocSpan(Math.ceil(bytes / this.slabBytes));
    if (slot === undefined) return undefined;
    slot.state = 'used';
    slot.owner = owner;
    slot.data = new Uint8Array(this.#regions[slot.region]!, slot.offset, bytes);
    this.#slotsAllocated++;
    this.#usedBytes += slot.capacity;
    this.#storedBytes += bytes;
    if (slot.cls) {
      this.#slabs[slot.slab]!.allocated++;
      slot.cls.used.push(slot);
    }
    this.#touch(slot);
    return slot;
  }

  /** Takes a reference (a reader is about to use the bytes) and marks the slot most recently used. */
  acquire(slot: Slot): void {
    assert.equal(slot.state, 'used', 'acquire: the slot is not in use');
    if (slot.refs++ === 0) this.#heldChanged(slot, 1);
    this.#touch(slot);
  }

  /** Drops a reference; the last release of a doomed slot frees it. */
  release(slot: Slot): void {
    assert.ok(slot.refs > 0 && slot.state !== 'free', 'release: the slot holds no reference');
    if (--slot.refs > 0) return;
    this.#heldChanged(slot, -1);
    if (slot.state === 'doomed') this.#reclaim(slot);
  }

  /** Gives the slot back: now when no reader holds it, else at the last release (no new readers meanwhile). */
  free(slot: Slot): void {
    assert.equal(slot.state, 'used', 'free: the slot is not in use');
    if (slot.refs > 0) {
      slot.state = 'doomed';
      slot.cls?.used.remove(slot);
      return;
    }
    this.#reclaim(slot);
  }

  stats(): SlabArenaStats {
    return {
      bytes: this.#slabs.length * this.slabBytes,
      slabs: this.#slabs.length,
      freeSlabs: this.#slabs.filter((s) => s.kind === 'free').length,
      usedBytes: this.#usedBytes,
      storedBytes: this.#storedBytes,
      slotsAllocated: this.#slotsAllocated,
      slotsHeld: this.#slotsHeld,
      evictions: this.#evictions,
      slabMoves: this.#slabMoves,
    };
  }

  // ---- size classes --------------------------------------------------------------------------

  #classFor(bytes: number): SizeClass {
    let lo = 0;
    let hi = this.#classes.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.#classes[mid]!.bytes >= bytes) hi = mid;
      else lo = mid + 1;
    }
    return this.#classes[lo]!;
  }

  #allocInClass(cls: SizeClass): Slot | undefined {
    const free = cls.free.head;
    if (free) {
      cls.free.remove(free);
      return free;
    }
    const window = this.#bestWindow(1);
    if (window !== undefined && window.cost < 0) return this.#carve(window.first, cls);
    const victim = this.#classVictim(cls);
    if (victim !== undefined && (window === undefined || victim.lastUse <= window.cost)) {
      this.#evictSlot(victim, false);
      cls.free.remove(victim);
      return victim;
    }
    if (window === undefined) return undefined;
    this.#evictWindow(window.first, 1);
    return this.#carve(window.first, cls);
  }

  /** The least recently used slot of `cls` that no reader holds, among its oldest few. */
  #classVictim(cls: SizeClass): Slot | undefined {
    let slot = cls.used.head;
    for (let looked = 0; slot !== undefined && looked < EVICTION_SCAN_MAX; looked++, slot = slot.next) {
      if (slot.refs === 0) return slot;
    }
    return undefined;
  }

  /** Cuts free slab `index` into slots of `cls`; returns the first, the rest go to the free list. */
  #carve(index: number, cls: SizeClass): Slot {
    const slab = this.#slabs[index]!;
    assert.equal(slab.kind, 'free', 'carve: the slab is not free');
    slab.kind = 'class';
    slab.cls = cls;
    slab.allocated = 0;
    slab.held = 0;
    cls.slabs++;
    const count = Math.floor(this.slabBytes / cls.bytes);
    slab.slots = [];
    for (let i = 0; i < count; i++) {
      const slot = newSlot(slab.region, slab.offset + i * cls.bytes, cls.bytes, index, cls, 1);
      slab.slots.push(slot);
      if (i > 0) cls.free.push(slot);
    }
    return slab.slots[0]!;
  }

  // ---- spans ---------------------------------------------------------------------------------

  #allocSpan(count: number): Slot | undefined {
    const window = this.#bestWindow(count);
    if (window === undefined) return undefined;
    if (window.cost >= 0) this.#evictWindow(window.first, count);
    const first = this.#slabs[window.first]!;
    const slot = newSlot(first.region, first.offset, count * this.slabBytes, window.first, undefined, count);
    for (let i = window.first; i < window.first + count; i++) {
      const slab = this.#slabs[i]!;
      assert.equal(slab.kind, 'free', 'span: a slab of the window is not free');
      slab.kind = 'span';
      slab.slots = [slot];
    }
    return slot;
  }

  // ---- choosing what to evict ----------------------------------------------------------------

  /**
   * What reusing slab `index` would cost: -1 when free, the time of its most recent use when its
   * pages may be evicted, Infinity when a reader holds one of them.
   */
  #slabCost(index: number): number {
    const slab = this.#slabs[index]!;
    if (slab.kind === 'free') return -1;
    if (slab.kind === 'class') return slab.held > 0 ? Infinity : slab.lastUse;
    const span = slab.slots[0]!;
    return span.refs > 0 ? Infinity : span.lastUse;
  }

  /** The run of `count` consecutive slabs (in one region) whose most recent use is oldest; free runs first. */
  #bestWindow(count: number): { first: number; cost: number } | undefined {
    let best: { first: number; cost: number } | undefined;
    for (const [start, end] of this.#regionSlabs) {
      for (let first = start; first + count <= end; first++) {
        let cost = -1;
        for (let i = first; i < first + count && cost < Infinity; i++) cost = Math.max(cost, this.#slabCost(i));
        if (cost === Infinity || (best !== undefined && cost >= best.cost)) continue;
        best = { first, cost };
        if (cost < 0) return best;
      }
    }
    return best;
  }

  /** Empties slabs [first, first + count): evicts every page in them (none is held: the caller checked). */
  #evictWindow(first: number, count: number): void {
    for (let i = first; i < first + count; i++) {
      const slab = this.#slabs[i]!;
      if (slab.kind === 'free') continue;
      this.#slabMoves++;
      // A class slab returns to the free slabs when its last slot is reclaimed; a span's slabs
      // (some perhaps outside the window) when its slot is.
      for (const slot of [...slab.slots]) if (slot.state === 'used') this.#evictSlot(slot, true);
      assert.equal(slab.kind, 'free', 'evictWindow: a slab stayed in use');
    }
  }

  /**
   * Evicts a page: the slot is reclaimed first (so the owner's callback sees it gone and must not
   * free it), then the owner is told. `releaseSlab` as in #reclaim.
   */
  #evictSlot(slot: Slot, releaseSlab: boolean): void {
    assert.ok(slot.state === 'used' && slot.refs === 0, 'evict: the slot is held or not in use');
    this.#evictions++;
    const owner = slot.owner;
    this.#reclaim(slot, releaseSlab);
    this.#onEvict(owner);
  }

  // ---- bookkeeping ---------------------------------------------------------------------------

  /** Marks a used slot (on its class's LRU list, for a class slot) most recently used. */
  #touch(slot: Slot): void {
    slot.lastUse = ++this.#clock;
    if (slot.cls) {
      slot.cls.used.remove(slot);
      slot.cls.used.push(slot);
      this.#slabs[slot.slab]!.lastUse = slot.lastUse;
    }
  }

  #heldChanged(slot: Slot, delta: 1 | -1): void {
    this.#slotsHeld += delta;
    if (slot.cls) this.#slabs[slot.slab]!.held += delta;
  }

  /**
   * Returns an allocated slot to its class's free list (or a span's slabs to the free slabs). A
   * class slab left with no allocated slot is uncut, unless `releaseSlab` is false (an eviction
   * that reuses the slot at once).
   */
  #reclaim(slot: Slot, releaseSlab = true): void {
    if (slot.state === 'free') return;
    assert.equal(slot.refs, 0, 'reclaim: the slot is held');
    if (slot.state === 'used') slot.cls?.used.remove(slot);
    slot.state = 'free';
    slot.owner = undefined;
    this.#slotsAllocated--;
    this.#usedBytes -= slot.capacity;
    this.#storedBytes -= slot.data.byteLength;
    slot.data = EMPTY;
    if (slot.cls === undefined) {
      for (let i = slot.slab; i < slot.slab + slot.slabCount; i++) this.#freeSlab(this.#slabs[i]!);
      return;
    }
    const slab = this.#slabs[slot.slab]!;
    slab.allocated--;
    slot.cls.free.push(slot);
    if (releaseSlab && slab.allocated === 0) {
      for (const s of slab.slots) slot.cls.free.remove(s);
      slot.cls.slabs--;
      this.#freeSlab(slab);
    }
  }

  #freeSlab(slab: Slab): void {
    slab.kind = 'free';
    slab.cls = undefined;
    slab.slots = [];
    slab.allocated = 0;
    slab.held = 0;
  }

  /**
   * Checks every structural invariant (tests call it after each step): slot lists, counts, no two
   * allocated slots overlapping, held counts. Throws an AssertionError naming the first broken one.
   */
  checkInvariants(): void {
    let allocated = 0;
    let held = 0;
    let usedBytes = 0;
    const ranges: [number, number, number][] = [];
    const spans = new Set<Slot>();
    for (const slab of this.#slabs) {
      if (slab.kind === 'free') {
        assert.equal(slab.slots.length, 0, `slab ${slab.index}: free with slots`);
        continue;
      }
      if (slab.kind === 'span') {
        spans.add(slab.slots[0]!);
        continue;
      }
      let slabAllocated = 0;
      let slabHeld = 0;
      for (const slot of slab.slots) {
        if (slot.state === 'free') continue;
        slabAllocated++;
        if (slot.refs > 0) slabHeld++;
        ranges.push([slot.region, slot.offset, slot.offset + slot.capacity]);
        usedBytes += slot.capacity;
      }
      assert.equal(slab.allocated, slabAllocated, `slab ${slab.index}: allocated count`);
      assert.equal(slab.held, slabHeld, `slab ${slab.index}: held count`);
      assert.ok(slabAllocated > 0, `slab ${slab.index}: a class slab with no allocated slot was not released`);
      allocated += slabAllocated;
      held += slabHeld;
    }
    for (const span of spans) {
      assert.notEqual(span.state, 'free', 'a free span still owns slabs');
      allocated++;
      if (span.refs > 0) held++;
      usedBytes += span.capacity;
      ranges.push([span.region, span.offset, span.offset + span.capacity]);
    }
    assert.equal(this.#slotsAllocated, allocated, 'allocated slot count');
    assert.equal(this.#slotsHeld, held, 'held slot count');
    assert.equal(this.#usedBytes, usedBytes, 'used bytes');
    ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let i = 1; i < ranges.length; i++) {
      const [region, start] = ranges[i]!;
      const [previousRegion, , previousEnd] = ranges[i - 1]!;
      assert.ok(region !== previousRegion || start >= previousEnd, `allocated slots overlap at region ${region} offset ${start}`);
    }
    for (const cls of this.#classes) checkClassLists(cls);
  }
}

const EMPTY = new Uint8Array(0);

function newSlot(region: number, offset: number, capacity: number, slab: number, cls: SizeClass | undefined, slabCount: number): Slot {
  return { data: EMPTY, owner: undefined, state: 'free', refs: 0, region, offset, capacity, slab, cls, slabCount, lastUse: 0, prev: undefined, next: undefined };
}

/** Sizes from `min` to `max` in CLASS_STEPS_PER_DOUBLING steps per doubling, each a multiple of SLOT_ALIGN_BYTES. */
export function classSizes(min: number, max: number): number[] {
  const sizes = new Set<number>();
  for (let base = min; base <= max; base *= 2) {
    for (let step = 0; step < CLASS_STEPS_PER_DOUBLING; step++) {
      const size = Math.ceil((base + (base * step) / CLASS_STEPS_PER_DOUBLING) / SLOT_ALIGN_BYTES) * SLOT_ALIGN_BYTES;
      if (size <= max) sizes.add(size);
    }
  }
  sizes.add(max);
  return [...sizes].sort((a, b) => a - b);
}

function checkClassLists(cls: SizeClass): void {
  for (const [list, state] of [[cls.free, 'free'], [cls.used, 'used']] as const) {
    let count = 0;
    let previous: Slot | undefined;
    for (let slot = list.head; slot !== undefined; slot = slot.next) {
      assert.equal(slot.state, state, `class ${cls.bytes}: a ${slot.state} slot on the ${state} list`);
      assert.equal(slot.prev, previous, `class ${cls.bytes}: broken ${state} list links`);
      if (state === 'used' && previous !== undefined) assert.ok(previous.lastUse <= slot.lastUse, `class ${cls.bytes}: LRU list out of order`);
      previous = slot;
      count++;
    }
    assert.equal(list.tail, previous, `class ${cls.bytes}: ${state} list tail`);
    assert.equal(list.size, count, `class ${cls.bytes}: ${state} list size`);
  }
}
