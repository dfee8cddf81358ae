// Proves the watch ring (src/node/watch-ring.ts) on its own, with hand-made events: appends are
// grouped by log index and read back whole and in order from any index it keeps, at most a
// message's worth of events at a time but never splitting an entry; the lag of a reader is the
// events from its index on; past the event or byte bound the oldest entries go and the oldest
// servable index moves past them; a reset (a snapshot install) empties it, moves the window and
// changes its epoch; subscribers are told of every append and reset; and impossible inputs
// (an index outside the batch, the applied index going back) are assertion failures.
import t from 'tap';
import { WatchRing } from '../../src/node/index.js';
import type { CacheEvent } from '../../src/store/index.js';

const key = (i: number): Uint8Array => new Uint8Array(16).fill(i);
const stored = (index: number, i: number): CacheEvent => ({ type: 'stored', index, ns: 'ns', key: key(i), parentKey: undefined, bytes: 4096, tokens: 16, crc32c: i });
const removed = (index: number, i: number): CacheEvent => ({ type: 'removed', index, ns: 'ns', key: key(i), reason: 'evicted' });
const options = { eventsMax: 10, bytesMax: 1 << 20, lagEventsMax: 5, watchersMax: 2, messageEventsMax: 3 };

t.test('groups by index, reads whole entries in order, counts lag', async (t) => {
  const ring = new WatchRing(4, options);
  t.equal(ring.oldestIndex(), 5, 'a ring that starts at applied index 4 serves from 5');
  let told = 0;
  const unsubscribe = ring.subscribe(() => told++);
  t.equal(ring.watchers(), 1);
  ring.append([stored(5, 1), stored(5, 2), removed(7, 1)], 8);
  ring.append([], 9); // An entry without page-set changes only moves the applied index.
  ring.append([stored(10, 3), stored(10, 4), stored(10, 5), stored(10, 6)], 10);
  t.equal(told, 3, 'every append is told');
  t.same(ring.read(5, 3).map((g) => [g.index, g.events.length]), [[5, 2], [7, 1]], 'at most 3 events, whole entries');
  t.same(ring.read(8, 3).map((g) => [g.index, g.events.length]), [[10, 4]], 'an entry larger than a message goes alone');
  t.same(ring.read(11, 3), [], 'nothing from past the newest');
  t.equal(ring.eventsFrom(5), 7);
  t.equal(ring.eventsFrom(6), 5);
  t.equal(ring.eventsFrom(11), 0);
  t.match(ring.stats(), { oldestIndex: 5, appliedIndex: 10, events: 7 });
  unsubscribe();
  t.equal(ring.watchers(), 0);
});

t.test('bounded by events and bytes: the oldest entries go, the window moves', async (t) => {
  const ring = new WatchRing(0, options);
  for (let i = 1; i <= 12; i++) ring.append([stored(i, i)], i);
  t.equal(ring.stats().events, 10, 'at most eventsMax events');
  t.equal(ring.oldestIndex(), 3, 'entries 1 and 2 went');
  t.throws(() => ring.read(2, 3), 'reading before the oldest index is a bug of the caller');
  const small = new WatchRing(0, { ...options, bytesMax: 300 });
  for (let i = 1; i <= 5; i++) small.append([stored(i, i)], i);
  t.ok(small.stats().bytes <= 300, `bytes kept ${small.stats().bytes}`);
  t.ok(small.oldestIndex() > 1, 'and the window moved for bytes too');
  const many = new WatchRing(0, { ...options, eventsMax: 2000, lagEventsMax: 10 });
  for (let i = 1; i <= 5000; i++) many.append([stored(i, i)], i);
  t.equal(many.read(4000, 1)[0]?.index, 4000, 'reads stay right after the array is compacted');
});

t.test('reset empties the ring, moves the window and changes the epoch', async (t) => {
  const ring = new WatchRing(0, options);
  ring.append([stored(1, 1)], 1);
  const epoch = ring.epoch;
  let told = 0;
  ring.subscribe(() => told++);
  ring.reset(50);
  t.equal(told, 1);
  t.not(ring.epoch, epoch);
  t.match(ring.stats(), { oldestIndex: 51, appliedIndex: 50, events: 0, bytes: 0 });
  t.throws(() => ring.append([stored(50, 2)], 51), 'an event at or below the applied index');
  t.throws(() => ring.append([], 49), 'the applied index going back');
  t.throws(() => new WatchRing(0, { ...options, lagEventsMax: 10 }), 'lag must be below the ring size');
});
