// Proves the Watch feed checker on hand-written histories: a feed that holds every acknowledged
// put once, in log order and in their real-time order passes; each way a feed can be wrong is
// found and counted — a missing put, a change delivered twice, a value stored at two indexes,
// indexes that go back, two acknowledged puts in the wrong order, a feed that stopped short of
// the converged index — and a history without a watch record is not checked. Also that the
// verdict fails on it, and that history.jsonl keeps the record for --recheck.
import t from 'tap';
import { checkHistory, checkWatchFeed } from '../../../src/chaos/checkers/index.js';
import type { History, WatchedChange } from '../../../src/chaos/history.js';
import { historyJsonLines, parseHistoryJsonLines } from '../../../src/chaos/report.js';
import { HistoryBuilder, PAGE_BYTES } from './helpers.js';

const stored = (index: number, key: string, tag: number): WatchedChange => ({ index, type: 'stored', ns: 'chaos', key, crc32c: tag, bytes: PAGE_BYTES });
const removed = (index: number, key: string): WatchedChange => ({ index, type: 'removed', ns: 'chaos', key });

/** Two puts in real-time order (a before b) and a delete, with the feed given. */
function history(events: WatchedChange[], o: { progressIndex?: number; targetIndex?: number } = {}): History {
  const h = new HistoryBuilder();
  h.put(0, 'aa', 1, 0, 10, 'stored');
  h.put(1, 'bb', 2, 20, 30, 'stored');
  h.put(2, 'cc', 3, 25, undefined, 'unknown'); // Not acknowledged: may be on the feed or not.
  h.del(0, 'aa', 40, 50);
  h.final(1, { aa: null, bb: 2 }, 9);
  return { ...h.build(), watch: { events, progressIndex: o.progressIndex ?? 9, targetIndex: o.targetIndex ?? 9, resumes: 2 } };
}

t.test('a complete feed in order passes', async (t) => {
  const result = checkWatchFeed(history([stored(3, 'aa', 1), stored(5, 'bb', 2), removed(7, 'aa')]));
  t.match(result, { checked: true, changes: 3, resumes: 2, reachedTarget: true, duplicates: 0, outOfOrder: 0, missingPuts: 0, reorderedPuts: 0 });
  t.same(checkHistory(history([stored(3, 'aa', 1), stored(5, 'bb', 2), removed(7, 'aa')])).failures, []);
});

t.test('each fault of a feed is found', async (t) => {
  t.match(checkWatchFeed(history([stored(5, 'bb', 2)])), { missingPuts: 1 }, 'a put missing');
  t.match(checkWatchFeed(history([stored(3, 'aa', 1), stored(3, 'aa', 1), stored(5, 'bb', 2)])), { duplicates: 1 }, 'a change twice');
  t.match(checkWatchFeed(history([stored(3, 'aa', 1), stored(5, 'bb', 2), stored(8, 'aa', 1)])), { duplicates: 1 }, 'a value stored twice');
  t.match(checkWatchFeed(history([stored(5, 'bb', 2), stored(3, 'aa', 1)])), { outOfOrder: 1, reorderedPuts: 0 }, 'indexes go back');
  t.match(checkWatchFeed(history([stored(6, 'aa', 1), stored(5, 'bb', 2)].sort((a, b) => a.index - b.index))), { outOfOrder: 0, reorderedPuts: 1 }, 'a before b in real time, after it in the log');
  const short = checkWatchFeed(history([stored(3, 'aa', 1)], { progressIndex: 4, targetIndex: 9 }));
  t.match(short, { reachedTarget: false, missingPuts: 0 }, 'a feed that stopped short is the finding, not its missing puts');
  const verdict = checkHistory(history([stored(5, 'bb', 2)]));
  t.notOk(verdict.ok);
  t.match(verdict.failures.join('\n'), /1 acknowledged puts are missing from the watch feed/);
});

t.test('no watch record: not checked; the record survives history.jsonl', async (t) => {
  const h = history([stored(3, 'aa', 1), stored(5, 'bb', 2)]);
  const { watch: _watch, ...without } = h;
  t.match(checkWatchFeed(without), { checked: false, missingPuts: 0 });
  t.same(parseHistoryJsonLines(historyJsonLines(h)).watch, h.watch);
});
