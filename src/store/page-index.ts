// An in-memory index of every stored page: what eviction, TTL expiry and Lookup need without
// reading LevelDB. Its replicated part (which pages exist, their parents, sizes, creation time,
// TTL, pins) is rebuilt from the metadata and pin records when the store opens (and so after a
// snapshot install) and changed only by the effects of applied batches, once they are durable; so
// it always describes the same state LevelDB holds. Its member-local part (when this member last
// saw a page looked up or read, and lookup leases) never reaches the log: it feeds the leader's
// eviction order and is reported to the leader by followers (access reports).
//
// Memory: one IndexedPage per page, about 300 bytes with a 16-byte key (the object, its key
// string, its map entry and the child count of its parent): 302 bytes per page measured with
// `node --expose-gc --import tsx scripts/page-index-memory.ts` (100,000 pages, 30 MB). It is
// bounded by the store's byte budget divided by the smallest page a workload writes.

import type { StoredMeta } from './records.js';

export interface IndexedPage {
  readonly ns: string;
  /** The page key as a latin1 string (one char per byte: exact, and compact in V8). */
  readonly keyId: string;
  /** `ns 0x00 parentKey` as latin1, the key of the parent's entry in `childCounts`. */
  readonly parentId: string | undefined;
  readonly bytes: number;
  readonly createdAtMs: number;
  /** The page's own TTL; 0 = the namespace's or the cluster's default. */
  readonly ttlMs: number;
  /** Member-local: last lookup or read this member saw or was told of (ms since the epoch; 0 = never). */
  accessedAtMs: number;
  /** Member-local: a lookup lease protects the page until then. */
  leaseUntilMs: number;
  /**
   * Member-local: the order of this page's latest use (its creation or an access) among all of
   * this process's (nextUseSeq). Eviction's tie-break between pages last used in the same
   * millisecond: on a fast machine a request's lookup and the previous request's put often share
   * one, and the page used later must stay, as an LRU would keep it.
   */
  usedSeq: number;
}

let lastUseSeq = 0;

/** The next number in this process's order of page uses (IndexedPage.usedSeq). */
export function nextUseSeq(): number {
  return ++lastUseSeq;
}

export type IndexEffect =
  | { kind: 'put'; ns: string; key: Uint8Array; meta: StoredMeta }
  | { kind: 'remove'; ns: string; key: Uint8Array }
  | { kind: 'drop'; ns: string }
  | { kind: 'pin'; ns: string; key: Uint8Array; expiresAtMs: number }
  | { kind: 'unpin'; ns: string; key: Uint8Array };

export function latin1(bytes: Uint8Array): string {
  // Keys read off the wire are Buffers already; wrapping them again costs more than the conversion.
  if (bytes instanceof Buffer) return bytes.toString('latin1');
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

export function bytesOfLatin1(id: string): Uint8Array {
  return new Uint8Array(Buffer.from(id, 'latin1'));
}

/** A page's identity across namespaces: the namespace, 0x00, the key (latin1). */
export function pageId(ns: string, keyId: string): string {
  return `${ns}\u0000${keyId}`;
}

/** Hears of every page entering and leaving the index (the shared lookup index, shared-lookup-index.ts). */
export interface PageIndexMirror {
  noteAdded(ns: string, keyId: string): void;
  noteRemoved(ns: string, keyId: string): void;
}

export class PageIndex {
  /** ns -> keyId -> page. */
  readonly #namespaces = new Map<string, Map<string, IndexedPage>>();
  /** pageId of a parent -> how many of its children are stored (the parent itself may be absent). */
  readonly #childCounts = new Map<string, number>();
  /** pageId -> when its pin expires; pins may name pages that are not stored (yet). */
  readonly #pins = new Map<string, number>();
  #pages = 0;
  #pagesWithTtl = 0;
  #mirror: PageIndexMirror | undefined;

  get pages(): number {
    return this.#pages;
  }

  /** Stored pages with a TTL of their own (the leader's expiry scan is skipped when none may expire). */
  get pagesWithTtl(): number {
    return this.#pagesWithTtl;
  }

  /** From now on `mirror` hears of each page added or removed. */
  setMirror(mirror: PageIndexMirror | undefined): void {
    this.#mirror = mirror;
  }

  /** Every stored page, as its namespace and key id. */
  *pageIds(): IterableIterator<{ ns: string; keyId: string }> {
    for (const [ns, pages] of this.#namespaces) for (const keyId of pages.keys()) yield { ns, keyId };
  }

  apply(effect: IndexEffect): void {
    switch (effect.kind) {
      case 'put':
        this.#add(effect.ns, effect.key, effect.meta);
        return;
      case 'remove':
        this.#remove(effect.ns, latin1(effect.key));
        return;
      case 'drop':
        this.#drop(effect.ns);
        return;
      case 'pin':
        this.#pins.set(pageId(effect.ns, latin1(effect.key)), effect.expiresAtMs);
        return;
      case 'unpin':
        this.#pins.delete(pageId(effect.ns, latin1(effect.key)));
        return;
    }
  }

  get(ns: string, key: Uint8Array): IndexedPage | undefined {
    return this.#namespaces.get(ns)?.get(latin1(key));
  }

  /** The stored pages of the leading `keys` of `ns`, up to the first key not stored: the longest stored prefix. */
  matchedPages(ns: string, keys: Uint8Array[]): IndexedPage[] {
    const pages = this.#namespaces.get(ns);
    const matched: IndexedPage[] = [];
    if (pages === undefined) return matched;
    for (const key of keys) {
      const page = pages.get(latin1(key));
      if (page === undefined) break;
      matched.push(page);
    }
    return matched;
  }

  /** Stored children of a page (0 = a leaf). */
  childCount(page: IndexedPage): number {
    return this.#childCounts.get(pageId(page.ns, page.keyId)) ?? 0;
  }

  /** The stored parent of a page, if any. */
  parentOf(page: IndexedPage): IndexedPage | undefined {
    if (page.parentId === undefined) return undefined;
    return this.#namespaces.get(page.ns)?.get(page.parentId.slice(page.ns.length + 1));
  }

  /** When the page's pin expires (0 = not pinned). */
  pinExpiry(page: IndexedPage): number {
    return this.#pins.get(pageId(page.ns, page.keyId)) ?? 0;
  }

  namespaceNames(): string[] {
    return [...this.#namespaces.keys()];
  }

  /** Every page of `ns`, or of every namespace when `ns` is undefined. */
  *pagesOf(ns?: string): Generator<IndexedPage> {
    if (ns !== undefined) {
      const pages = this.#namespaces.get(ns);
      if (pages !== undefined) yield* pages.values();
      return;
    }
    for (const pages of this.#namespaces.values()) yield* pages.values();
  }

  clear(): void {
    if (this.#mirror !== undefined) for (const { ns, keyId } of this.pageIds()) this.#mirror.noteRemoved(ns, keyId);
    this.#namespaces.clear();
    this.#childCounts.clear();
    this.#pins.clear();
    this.#pages = 0;
    this.#pagesWithTtl = 0;
  }

  #add(ns: string, key: Uint8Array, meta: StoredMeta): void {
    let pages = this.#namespaces.get(ns);
    if (pages === undefined) this.#namespaces.set(ns, (pages = new Map()));
    const keyId = latin1(key);
    if (pages.has(keyId)) return; // The store writes a page once; a put of it again changes nothing.
    const parentId = meta.parentKey === undefined ? undefined : pageId(ns, latin1(meta.parentKey));
    pages.set(keyId, { ns, keyId, parentId, bytes: meta.bytes, createdAtMs: meta.createdAtMs, ttlMs: meta.ttlMs ?? 0, accessedAtMs: 0, leaseUntilMs: 0, usedSeq: nextUseSeq() });
    this.#pages++;
    this.#mirror?.noteAdded(ns, keyId);
    if ((meta.ttlMs ?? 0) > 0) this.#pagesWithTtl++;
    if (parentId !== undefined) this.#childCounts.set(parentId, (this.#childCounts.get(parentId) ?? 0) + 1);
  }

  #remove(ns: string, keyId: string): void {
    const pages = this.#namespaces.get(ns);
    const page = pages?.get(keyId);
    if (pages === undefined || page === undefined) return;
    pages.delete(keyId);
    this.#pages--;
    this.#mirror?.noteRemoved(ns, keyId);
    if (page.ttlMs > 0) this.#pagesWithTtl--;
    if (pages.size === 0) this.#namespaces.delete(ns);
    if (page.parentId === undefined) return;
    const left = (this.#childCounts.get(page.parentId) ?? 1) - 1;
    if (left <= 0) this.#childCounts.delete(page.parentId);
    else this.#childCounts.set(page.parentId, left);
  }

  #drop(ns: string): void {
    const pages = this.#namespaces.get(ns);
    if (pages !== undefined) for (const keyId of [...pages.keys()]) this.#remove(ns, keyId);
    const prefix = `${ns}\u0000`;
    for (const id of [...this.#pins.keys()]) if (id.startsWith(prefix)) this.#pins.delete(id);
  }
}
