// Which pages to evict: prefix-aware LRU over the in-memory page index. Pure: the clock, the
// settings and the pages already on their way out come in as arguments, and the answer is a list
// of pages; the leader's driver (src/node/eviction.ts) turns it into replicated `evict` commands.
//
// The order (DESIGN §6): leaves first — a page none of whose children is stored, because evicting
// an interior page would make its whole subtree unreachable by Lookup — and among leaves the least
// recently used first, where "used" is the later of its creation and the last lookup or read this
// leader knows of (its own and its followers' access reports). Evicting a leaf can make its parent
// a leaf; the parent then joins the candidates in the same plan, ordered by its own recency. A
// page is never chosen while it is pinned, leased by a recent Lookup, or was looked up or read
// within the grace window; those are counted, so a refusal can say what held the bytes.

import type { IndexedPage, PageIndex } from './page-index.js';
import { pageId } from './page-index.js';

export interface PlanInput {
  index: PageIndex;
  nowMs: number;
  /** A page looked up or read within this many ms is not evicted. */
  graceMs: number;
  /** Bytes to free; the plan stops once its victims hold at least this many. */
  needBytes: number;
  /** Only pages of this namespace (a namespace over its quota); undefined = every namespace. */
  ns?: string;
  /** Pages already proposed for removal, by pageId: treated as gone. */
  leaving: ReadonlyMap<string, IndexedPage>;
  /**
   * Parents (pageIds) of pages proposed in puts not applied yet: they are about to have a child,
   * so they are not leaves, whatever the index says now.
   */
  incomingParents: ReadonlySet<string>;
  /** Bounds of one plan; the rest waits for the next one. */
  keysMax: number;
  bytesMax: number;
}

export interface HeldBack {
  pinned: number;
  leased: number;
  grace: number;
}

export interface Plan {
  victims: IndexedPage[];
  bytes: number;
  heldBack: HeldBack;
}

/**
 * A binary min-heap of pages by recency: the millisecond of the latest use, then the order of uses
 * within it (IndexedPage.usedSeq, unique to each use in the process, so no two pages tie and every
 * run over the same uses picks the same).
 */
class RecencyHeap {
  readonly #items: { page: IndexedPage; usedAtMs: number; usedSeq: number }[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(page: IndexedPage): void {
    const items = this.#items;
    items.push({ page, usedAtMs: Math.max(page.createdAtMs, page.accessedAtMs), usedSeq: page.usedSeq });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): IndexedPage | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined) return undefined;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let smallest = i;
        if (left < items.length && this.#less(left, smallest)) smallest = left;
        if (right < items.length && this.#less(right, smallest)) smallest = right;
        if (smallest === i) break;
        [items[i], items[smallest]] = [items[smallest]!, items[i]!];
        i = smallest;
      }
    }
    return top.page;
  }

  #less(a: number, b: number): boolean {
    const x = this.#items[a]!;
    const y = this.#items[b]!;
    return x.usedAtMs !== y.usedAtMs ? x.usedAtMs < y.usedAtMs : x.usedSeq < y.usedSeq;
  }
}

/** Why `page` may not be evicted now, or undefined when it may. */
function holdReason(index: PageIndex, page: IndexedPage, nowMs: number, graceMs: number): keyof HeldBack | undefined {
  if (index.pinExpiry(page) > nowMs) return 'pinned';
  if (page.leaseUntilMs > nowMs) return 'leased';
  if (page.accessedAtMs > 0 && page.accessedAtMs + graceMs > nowMs) return 'grace';
  return undefined;
}

export function planEviction(input: PlanInput): Plan {
  const { index, nowMs, graceMs, leaving } = input;
  // Children still stored once the pages already leaving are gone.
  const childrenLeft = new Map<string, number>();
  const children = (page: IndexedPage): number => {
    const id = pageId(page.ns, page.keyId);
    let left = childrenLeft.get(id);
    if (left === undefined) childrenLeft.set(id, (left = index.childCount(page)));
    return left;
  };
  for (const gone of leaving.values()) {
    const parent = index.parentOf(gone);
    if (parent !== undefined) childrenLeft.set(pageId(parent.ns, parent.keyId), children(parent) - 1);
  }
  const heap = new RecencyHeap();
  const candidate = (page: IndexedPage): boolean => {
    const id = pageId(page.ns, page.keyId);
    return !leaving.has(id) && !input.incomingParents.has(id) && children(page) === 0;
  };
  for (const page of index.pagesOf(input.ns)) if (candidate(page)) heap.push(page);
  const plan: Plan = { victims: [], bytes: 0, heldBack: { pinned: 0, leased: 0, grace: 0 } };
  while (plan.bytes < input.needBytes && plan.victims.length < input.keysMax && plan.bytes < input.bytesMax) {
    const page = heap.pop();
    if (page === undefined) break;
    const held = holdReason(index, page, nowMs, graceMs);
    if (held !== undefined) {
      plan.heldBack[held]++;
      continue;
    }
    plan.victims.push(page);
    plan.bytes += page.bytes;
    const parent = index.parentOf(page);
    if (parent === undefined || leaving.has(pageId(parent.ns, parent.keyId))) continue;
    childrenLeft.set(pageId(parent.ns, parent.keyId), children(parent) - 1);
    if (candidate(parent)) heap.push(parent);
  }
  return plan;
}

/** Describes what held pages back, for a KVC_QUOTA_EXHAUSTED message. */
export function describeHeldBack(held: HeldBack): string {
  return `nothing more is evictable: ${held.pinned} candidate(s) pinned, ${held.leased} leased by a recent lookup, ${held.grace} looked up or read within the grace window`;
}
