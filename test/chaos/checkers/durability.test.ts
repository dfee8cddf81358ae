// Proves the durability checker: an acknowledged put missing from one member's final state is a
// lost put (counted once per page, naming the members that lack it); a put that a later or
// concurrent delete (acknowledged or unknown) may have removed is not required; a delete that
// completed before the put was invoked excuses nothing; a final copy no put wrote is corrupt; a
// copy that an acknowledged delete should have removed for good is flagged. Histories and final
// states are written out by hand (times in ms, page tags stand for crc32c values).
import t from 'tap';
import { checkDurability } from '../../../src/chaos/checkers/index.js';
import { HistoryBuilder, page } from './helpers.js';

t.test('a page acknowledged and present everywhere is durable', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.put(1, 'a', 1, 2, 3, 'stored'); // A retry of the same page: still one page.
  h.put(1, 'b', 2, 2, 3, 'unknown'); // Not acknowledged: not required, but may be present.
  h.final(1, { a: 1, b: 2 }).final(2, { a: 1, b: null }).final(3, { a: 1 });
  const result = checkDurability(h.build());
  t.equal(result.acknowledgedPuts, 2);
  t.equal(result.requiredPages, 1);
  t.equal(result.lostPuts, 0);
  t.equal(result.corruptCopies, 0);
  t.equal(result.members, 3);
});

t.test('planted bug: an acknowledged put missing on one member is a lost put', async (t) => {
  const h = new HistoryBuilder();
  const put = h.put(0, 'a', 1, 0, 1, 'stored');
  h.put(1, 'b', 2, 0, 1, 'stored');
  h.final(1, { a: 1, b: 2 }).final(2, { a: null, b: 2 }).final(3, { a: 1, b: 2 });
  const result = checkDurability(h.build());
  t.equal(result.lostPuts, 1);
  t.same(result.lost, [{ key: 'a', value: page(1), putIds: [put.id], missingOn: [{ member: 2, holds: null }] }]);

  const other = new HistoryBuilder();
  other.put(0, 'a', 1, 0, 1, 'stored');
  other.put(1, 'a', 2, 2, 3, 'exists-different');
  other.final(1, { a: 2 }).final(2, { a: 1 });
  const replaced = checkDurability(other.build());
  t.equal(replaced.lostPuts, 1, 'holding another written page instead is also a loss');
  t.same(replaced.lost[0].missingOn, [{ member: 1, holds: page(2) }]);
});

t.test('deletes that may follow the put excuse it; earlier ones do not', async (t) => {
  const later = new HistoryBuilder();
  later.put(0, 'a', 1, 0, 1, 'stored');
  later.del(1, 'a', 2, 3);
  later.final(1, { a: null }).final(2, { a: null });
  t.equal(checkDurability(later.build()).lostPuts, 0, 'put then acknowledged delete: not required');

  const concurrent = new HistoryBuilder();
  concurrent.put(0, 'a', 1, 0, 10, 'stored');
  concurrent.del(1, 'a', 5, 6);
  concurrent.final(1, { a: null });
  const excused = checkDurability(concurrent.build());
  t.equal(excused.lostPuts, 0, 'a concurrent delete may have come after the put');
  t.equal(excused.excusedPages, 1);

  const unknown = new HistoryBuilder();
  unknown.put(0, 'a', 1, 0, 1, 'stored');
  unknown.del(1, 'a', 0.5, 0.7, 'unknown'); // Invoked before the put ended; may take effect later.
  unknown.final(1, { a: null });
  t.equal(checkDurability(unknown.build()).lostPuts, 0, 'an unknown delete may take effect after the put');

  const failed = new HistoryBuilder();
  failed.put(0, 'a', 1, 0, 1, 'stored');
  failed.del(1, 'a', 2, 3, 'fail');
  failed.final(1, { a: null });
  t.equal(checkDurability(failed.build()).lostPuts, 1, 'a failed delete excuses nothing');

  const earlier = new HistoryBuilder();
  earlier.del(1, 'a', 0, 1);
  earlier.put(0, 'a', 1, 2, 3, 'stored');
  earlier.final(1, { a: null });
  t.equal(checkDurability(earlier.build()).lostPuts, 1, 'a delete that completed before the put excuses nothing');

  const again = new HistoryBuilder();
  again.put(0, 'a', 1, 0, 1, 'stored');
  again.del(1, 'a', 2, 3);
  again.put(0, 'a', 2, 4, 5, 'stored');
  again.final(1, { a: 2 }).final(2, { a: null });
  const result = checkDurability(again.build());
  t.equal(result.requiredPages, 1, 'only the page stored after the delete is required');
  t.equal(result.lostPuts, 1);
  t.same(result.lost[0].missingOn, [{ member: 2, holds: null }]);
});

t.test('planted bug: a final copy that no put wrote is corrupt', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.put(1, 'b', 2, 0, 1, 'fail'); // Even a failed put's bytes are not corruption.
  h.final(1, { a: 1, b: 2 }).final(2, { a: 99, c: 5 });
  const result = checkDurability(h.build());
  t.equal(result.corruptCopies, 2);
  t.same(result.corrupt, [
    { member: 2, key: 'a', value: page(99) },
    { member: 2, key: 'c', value: page(5) },
  ]);
  t.equal(result.lostPuts, 1, 'and the page it replaced is lost');
});

t.test('a copy an acknowledged delete removed for good must not come back', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.del(1, 'a', 2, 3);
  h.final(1, { a: null }).final(2, { a: 1 });
  const result = checkDurability(h.build());
  t.equal(result.resurrectedCopies, 1);
  t.same(result.resurrected, [{ member: 2, key: 'a', value: page(1) }]);

  const maybe = new HistoryBuilder();
  maybe.put(0, 'a', 1, 0, 1, 'stored');
  maybe.del(1, 'a', 2, 3);
  maybe.put(0, 'a', 1, 2.5, 4, 'unknown'); // A retry that may have landed after the delete.
  maybe.final(1, { a: 1 });
  t.equal(checkDurability(maybe.build()).resurrectedCopies, 0, 'not when a put of it may follow the delete');
});
