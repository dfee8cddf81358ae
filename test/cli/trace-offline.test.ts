// Proves the offline simulators of `kvc trace replay --offline` on hand-made traces whose answers
// are worked out in the comments: the prefix rule (a cached block after the first miss does not
// count), chains that share a prefix, an infinite cache, an LRU that evicts the least recently
// used block (and keeps one a hit touched), an LRU as large as the trace agreeing with the
// infinite cache, and a request longer than the LRU evicting its own first blocks.
import t from 'tap';
import { infiniteCacheHits, lruCacheHits, matchedPrefix } from '../../src/cli/trace-offline.js';

t.test('the prefix rule stops at the first block not cached', async (t) => {
  const cached = new Set([1, 2, 4]);
  t.equal(matchedPrefix([1, 2, 3, 4], cached), 2);
  t.equal(matchedPrefix([3, 1, 2], cached), 0);
  t.equal(matchedPrefix([1, 2, 4], cached), 3);
  t.equal(matchedPrefix([], cached), 0);
});

t.test('an infinite cache serves every shared prefix', async (t) => {
  // [0 1 2]: 0 hits. [0 1 3]: shares 0 1 → 2 hits. [0 1 2 5]: 0 1 2 → 3 hits.
  // [4 1 2]: another first block → 0 hits, though 1 and 2 are cached. [4 1 2]: 3 hits.
  const trace = [[0, 1, 2], [0, 1, 3], [0, 1, 2, 5], [4, 1, 2], [4, 1, 2]];
  t.same(infiniteCacheHits(trace), { hits: 8, blockRefs: 16, hitRatio: 0.5 });
  t.same(infiniteCacheHits([]), { hits: 0, blockRefs: 0, hitRatio: 0 }, 'no blocks: ratio 0, not NaN');
});

t.test('an LRU evicts the least recently used block', async (t) => {
  // Capacity 3. [1 2 3]: miss, cache 1 2 3. [1 2]: 2 hits, touches 1 2 → order 3 1 2.
  // [4]: miss, evicts 3 → 1 2 4. [1 2 3]: hits 1 2, 3 was evicted → 2 hits; putting 3 evicts 4.
  // [4]: miss (evicted). Hits 0+2+0+2+0 = 4 of 3+2+1+3+1 = 10.
  const trace = [[1, 2, 3], [1, 2], [4], [1, 2, 3], [4]];
  t.same(lruCacheHits(trace, 3), { hits: 4, blockRefs: 10, hitRatio: 0.4 });
  // The infinite cache also serves the last two requests in full: 0+2+0+3+1.
  t.same(infiniteCacheHits(trace), { hits: 6, blockRefs: 10, hitRatio: 0.6 });
  t.same(lruCacheHits(trace, 4), infiniteCacheHits(trace), 'an LRU that holds every block is the infinite cache');
});

t.test('a touched block survives an eviction that an untouched one does not', async (t) => {
  // Capacity 2. [1]: cache 1. [2]: cache 1 2. [1]: hit, touches 1 → 2 1. [3]: evicts 2 → 1 3.
  // [1]: hit. [2]: miss. Without the touch, [3] would have evicted 1 and the fifth request missed.
  t.same(lruCacheHits([[1], [2], [1], [3], [1], [2]], 2), { hits: 2, blockRefs: 6, hitRatio: 2 / 6 });
});

t.test('a request longer than the LRU evicts its own first blocks', async (t) => {
  // Capacity 2: after [1 2 3] the cache holds 2 3, so [1 2 3] again matches nothing (1 is gone).
  t.same(lruCacheHits([[1, 2, 3], [1, 2, 3]], 2), { hits: 0, blockRefs: 6, hitRatio: 0 });
  t.throws(() => lruCacheHits([[1]], 0), RangeError);
  t.throws(() => lruCacheHits([[1]], 1.5), RangeError);
});
