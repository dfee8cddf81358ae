// Offline hit ratios of a request trace, computed in-process as the yardsticks `kvc trace replay
// --offline` prints beside what the cluster achieved: an infinite cache (the most any cache can
// serve) and a plain LRU of a given number of blocks. Both use the cluster's prefix rule: a
// request is served the longest prefix of its blocks that are all cached, exactly as Lookup counts
// it, so a cached block after the first missing one does not count. Pure: no clock, no I/O.

export interface OfflineHits {
  /** Blocks served from the cache (the matched prefixes). */
  hits: number;
  /** Blocks asked for: every hash id of every request. */
  blockRefs: number;
  /** hits / blockRefs; 0 when there were no blocks. */
  hitRatio: number;
}

/** An infinite cache: every block ever seen stays cached. */
export function infiniteCacheHits(requests: Iterable<readonly number[]>): OfflineHits {
  const seen = new Set<number>();
  let hits = 0;
  let blockRefs = 0;
  for (const ids of requests) {
    blockRefs += ids.length;
    hits += matchedPrefix(ids, seen);
    for (const id of ids) seen.add(id);
  }
  return result(hits, blockRefs);
}

/**
 * A plain LRU of `capacityBlocks` blocks. Per request, in order: the matched prefix is served and
 * each of its blocks is touched (made most recent); every block after it is inserted as the put
 * the replay would make (a block that was cached past the first miss is put again, which touches
 * it too); then the least recently used blocks are evicted until the cache holds the capacity.
 * Eviction runs after each insertion, so a request longer than the cache evicts its own first
 * blocks, as a real cache of that size must.
 */
export function lruCacheHits(requests: Iterable<readonly number[]>, capacityBlocks: number): OfflineHits {
  if (!Number.isSafeInteger(capacityBlocks) || capacityBlocks < 1) throw new RangeError(`capacityBlocks must be a positive integer, got ${capacityBlocks}`);
  // A Map iterates in insertion order: deleting and re-inserting a block makes it the most recent,
  // and the first key is the least recently used.
  const cache = new Map<number, true>();
  let hits = 0;
  let blockRefs = 0;
  for (const ids of requests) {
    blockRefs += ids.length;
    hits += matchedPrefix(ids, cache);
    for (const id of ids) {
      cache.delete(id);
      cache.set(id, true);
      if (cache.size > capacityBlocks) cache.delete(cache.keys().next().value!);
    }
  }
  return result(hits, blockRefs);
}

/** How many leading ids are all in `cache`: the count stops at the first one that is not. */
export function matchedPrefix(ids: readonly number[], cache: { has(id: number): boolean }): number {
  let matched = 0;
  while (matched < ids.length && cache.has(ids[matched]!)) matched++;
  return matched;
}

function result(hits: number, blockRefs: number): OfflineHits {
  return { hits, blockRefs, hitRatio: blockRefs === 0 ? 0 : hits / blockRefs };
}
