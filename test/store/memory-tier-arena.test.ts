// Proves the slab allocator under the memory tier (src/store/slab-arena.ts) on plain ArrayBuffers:
// - randomized (seeded mulberry32, several seeds, thousands of steps each): allocations of mixed
//   sizes (small slots, slab-sized slots, multi-slab spans), leases taken and released, frees of
//   held and unheld slots. After every step the arena's structural invariants hold (no two
//   allocated slots overlap, counts and lists agree); eviction never picks a slot a reader holds
//   (checked in the eviction callback); a slot handed out never overlaps a slot under a lease; and
//   a held slot's bytes never change while held (each page is filled with its own pattern when
//   allocated and checked at every release).
// - deterministic: size classes, LRU order within a class, a class taking a free slab and then a
//   cold slab from another class, spans, too-big pages refused, every candidate held -> no slot,
//   a doomed slot reclaimed at its last release, and a slab returned when its class empties.
import t from 'tap';
import { SlabArena, classSizes, type Slot } from '../../src/store/slab-arena.js';
import { prng } from '../codec/prng.js';

const KIB = 1024;

interface Page {
  id: number;
  slot: Slot;
  leases: number;
  freed: boolean;
}

function fill(slot: Slot, id: number): void {
  const data = slot.data;
  for (let i = 0; i < data.byteLength; i += 61) data[i] = (id * 31 + i) & 0xff;
}

function intact(slot: Slot, id: number): boolean {
  const data = slot.data;
  for (let i = 0; i < data.byteLength; i += 61) if (data[i] !== ((id * 31 + i) & 0xff)) return false;
  return true;
}

function overlaps(a: Slot, b: Slot): boolean {
  return a.region === b.region && a.offset < b.offset + b.capacity && b.offset < a.offset + a.capacity;
}

/** One randomized run; returns counts so the test can show the run did exercise eviction and spans. */
function randomRun(seed: number, steps: number): { evictions: number; spans: number; skipped: number; doomed: number } {
  const random = prng(seed);
  const slabBytes = 64 * KIB;
  const regions = [new ArrayBuffer(slabBytes * 24), new ArrayBuffer(slabBytes * 16 + 1000)];
  const live = new Map<number, Page>();
  const counts = { evictions: 0, spans: 0, skipped: 0, doomed: 0 };
  const arena = new SlabArena({
    regions,
    slabBytes,
    slotBytesMin: 256,
    onEvict: (owner) => {
      const page = owner as Page;
      if (page.leases !== 0) throw new Error(`page ${page.id} evicted while ${page.leases} leases hold it`);
      if (page.freed) throw new Error(`page ${page.id} evicted after it was freed`);
      counts.evictions++;
      live.delete(page.id);
    },
  });
  let nextId = 1;
  const leased = (): Page[] => [...live.values()].filter((p) => p.leases > 0);
  for (let step = 0; step < steps; step++) {
    const roll = random() % 100;
    const pages = [...live.values()];
    const pick = (): Page | undefined => pages[random() % Math.max(1, pages.length)];
    if (roll < 45) {
      // Sizes: mostly small, some slab-sized, a few spans of 2-6 slabs.
      const kind = random() % 20;
      const bytes = kind < 14 ? 1 + (random() % (8 * KIB)) : kind < 18 ? 8 * KIB + (random() % (slabBytes - 8 * KIB)) : slabBytes + 1 + (random() % (5 * slabBytes));
      const id = nextId++;
      const heldBefore = leased();
      const slot = arena.alloc(bytes, { id } as unknown);
      if (slot === undefined) {
        counts.skipped++;
      } else {
        const page: Page = { id, slot, leases: 0, freed: false };
        slot.owner = page;
        if (slot.data.byteLength !== bytes) throw new Error(`slot of ${slot.data.byteLength} bytes for ${bytes}`);
        for (const held of heldBefore) if (overlaps(held.slot, slot)) throw new Error(`slot for page ${id} overlaps held page ${held.id}`);
        if (slot.cls === undefined) counts.spans++;
        fill(slot, id);
        live.set(id, page);
      }
    } else if (roll < 70) {
      const page = pick();
      if (page && !page.freed) {
        arena.acquire(page.slot);
        page.leases++;
      }
    } else if (roll < 90) {
      const page = leased()[random() % Math.max(1, leased().length)];
      if (page) {
        if (!intact(page.slot, page.id)) throw new Error(`page ${page.id}'s bytes changed while held`);
        page.leases--;
        arena.release(page.slot);
        if (page.freed && page.leases === 0) live.delete(page.id);
      }
    } else {
      const page = pick();
      if (page && !page.freed) {
        page.freed = true;
        if (page.leases > 0) counts.doomed++;
        else live.delete(page.id);
        arena.free(page.slot);
      }
    }
    arena.checkInvariants();
  }
  for (const page of leased()) if (!intact(page.slot, page.id)) throw new Error(`page ${page.id}'s bytes changed while held`);
  return counts;
}

t.test('randomized: no slot handed out under a lease, held bytes never change, invariants hold', async (t) => {
  for (const seed of [1, 2, 3, 0xc0ffee, 20260101]) {
    const counts = randomRun(seed, 3_000);
    t.ok(counts.evictions > 100 && counts.spans > 10 && counts.doomed > 10, `seed ${seed}: ${JSON.stringify(counts)}`);
  }
});

const page = (id: number): { id: number } => ({ id });

t.test('size classes: quarter steps between powers of two, up to the slab', async (t) => {
  t.same(classSizes(4 * KIB, 32 * KIB), [4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32].map((k) => k * KIB));
  const arena = new SlabArena({ regions: [new ArrayBuffer(1024 * KIB)], slabBytes: 64 * KIB, slotBytesMin: 4 * KIB, onEvict: () => undefined });
  const slot = arena.alloc(5 * KIB + 1, page(1))!;
  t.equal(slot.capacity, 6 * KIB, 'the smallest class that holds the page');
  t.equal(slot.data.byteLength, 5 * KIB + 1, 'the view is exactly the page');
  t.equal(arena.alloc(1, page(2))!.capacity, 4 * KIB, 'tiny pages take the smallest slot');
  t.equal(arena.alloc(64 * KIB, page(3))!.capacity, 64 * KIB, 'a slab-sized page takes a whole slab');
  t.equal(arena.maxAllocBytes, 4 * 64 * KIB, 'a page may span a quarter of the arena');
  t.equal(arena.alloc(4 * 64 * KIB + 1, page(4)), undefined, 'larger pages are not cached');
  t.equal(arena.alloc(3 * 64 * KIB, page(5))!.capacity, 3 * 64 * KIB, 'a span of consecutive slabs');
  arena.checkInvariants();
});

t.test('LRU within a class: the least recently used slot that no one holds is evicted', async (t) => {
  const evicted: number[] = [];
  // One slab of 4 slots of 16 KiB.
  const arena = new SlabArena({ regions: [new ArrayBuffer(64 * KIB)], slabBytes: 64 * KIB, slotBytesMin: 16 * KIB, onEvict: (o) => evicted.push((o as { id: number }).id) });
  const slots = [1, 2, 3, 4].map((id) => arena.alloc(16 * KIB, page(id))!);
  arena.acquire(slots[0]!); // 1 is now the most recently used, and held
  arena.release(slots[0]!);
  arena.acquire(slots[1]!); // 2 held
  const fifth = arena.alloc(16 * KIB, page(5));
  t.same(evicted, [3], 'page 3 was least recently used (1 was read again, 2 is held)');
  t.equal(fifth?.offset, slots[2]!.offset, 'its slot is reused');
  arena.alloc(16 * KIB, page(6));
  arena.alloc(16 * KIB, page(7));
  t.same(evicted, [3, 4, 1], 'then 4, then 1; 2 stays while held');
  arena.acquire(fifth!);
  arena.acquire(arena.alloc(16 * KIB, page(8)) ?? fifth!);
  t.same(evicted, [3, 4, 1, 6], '6 was next');
  const all = arena.stats();
  t.equal(all.slotsHeld, 3, 'three held: 2, 5, 8');
  const last = arena.alloc(16 * KIB, page(9));
  t.same(evicted, [3, 4, 1, 6, 7], 'only 7 was not held');
  arena.acquire(last!);
  t.equal(arena.alloc(16 * KIB, page(10)), undefined, 'every slot held: nothing is evicted, the allocation fails');
  t.equal(arena.alloc(200, page(11)), undefined, 'a page of another class finds no slab either');
  arena.checkInvariants();
});

t.test('classes share slabs: a free slab first, then the coldest slab of another class', async (t) => {
  const evicted: number[] = [];
  const arena = new SlabArena({ regions: [new ArrayBuffer(2 * 64 * KIB)], slabBytes: 64 * KIB, slotBytesMin: 16 * KIB, onEvict: (o) => evicted.push((o as { id: number }).id) });
  const small = [1, 2, 3, 4].map((id) => arena.alloc(16 * KIB, page(id))!);
  t.equal(arena.stats().freeSlabs, 1, 'the 16 KiB class took one slab');
  arena.alloc(32 * KIB, page(5));
  t.equal(arena.stats().freeSlabs, 0, 'the 32 KiB class took the free one');
  arena.alloc(32 * KIB, page(6));
  const readSmall = (): void => {
    for (const slot of small) {
      arena.acquire(slot);
      arena.release(slot);
    }
  };
  readSmall();
  // The 32 KiB class is full; its own LRU page (5) is older than the 16 KiB slab's newest use.
  arena.alloc(32 * KIB, page(7));
  t.same(evicted, [5], 'the class evicts its own cold page rather than take a hotter slab');
  readSmall();
  // A 64 KiB page: no slab is free, and the 32 KiB slab (pages 6 and 7) is now the colder one.
  const big = arena.alloc(64 * KIB, page(8));
  t.ok(big, 'a slab-sized page found a slab');
  t.same(evicted.slice(1).sort(), [6, 7], 'the colder slab moved, with its pages');
  t.equal(arena.stats().slabMoves, 1, 'one slab moved');
  arena.checkInvariants();
});

t.test('free: now when unheld, at the last release when held; an empty slab goes back', async (t) => {
  const arena = new SlabArena({ regions: [new ArrayBuffer(2 * 64 * KIB)], slabBytes: 64 * KIB, slotBytesMin: 16 * KIB, onEvict: () => t.fail('nothing is evicted') });
  const a = arena.alloc(16 * KIB, page(1))!;
  const b = arena.alloc(16 * KIB, page(2))!;
  arena.acquire(a);
  arena.acquire(a);
  arena.free(a);
  t.equal(a.state, 'doomed', 'held: doomed, not freed');
  t.throws(() => arena.acquire(a), 'a doomed slot takes no new reader');
  const c = arena.alloc(16 * KIB, page(3))!;
  t.not(c.offset, a.offset, 'its memory is not handed out meanwhile');
  arena.release(a);
  t.equal(a.state, 'doomed', 'one reader left');
  arena.release(a);
  t.equal(a.state, 'free', 'reclaimed at the last release');
  arena.free(b);
  arena.free(c);
  t.equal(arena.stats().freeSlabs, 2, 'the class emptied and gave its slab back');
  t.equal(arena.stats().usedBytes, 0);
  arena.checkInvariants();
});

t.test('spans take the coldest window of consecutive slabs and never one with a held slot', async (t) => {
  const evicted: number[] = [];
  const arena = new SlabArena({ regions: [new ArrayBuffer(8 * 64 * KIB)], slabBytes: 64 * KIB, slotBytesMin: 16 * KIB, onEvict: (o) => evicted.push((o as { id: number }).id) });
  const slabs = [1, 2, 3, 4, 5, 6, 7, 8].map((id) => arena.alloc(64 * KIB, page(id))!);
  arena.acquire(slabs[1]!); // slab 1 held
  for (const i of [0, 2, 3, 6, 7]) {
    arena.acquire(slabs[i]!);
    arena.release(slabs[i]!);
  }
  // Windows of 2 without a held slab: {2,3}, {3,4}, {4,5}, {5,6}, {6,7}; {4,5} was used longest ago.
  const span = arena.alloc(2 * 64 * KIB, page(9));
  t.equal(span?.offset, 4 * 64 * KIB, 'the coldest window');
  t.same(evicted, [5, 6], 'its two pages were evicted');
  t.equal(arena.alloc(64 * KIB * 2, page(10))?.offset !== 64 * KIB, true, 'never the window with the held slab');
  arena.checkInvariants();
});
