// Proves the integrity checker: a get that returned bytes (crc32c and length) that no put of that
// key wrote is a corrupt read, and so is one returning a page whose every put was invoked only
// after the get completed; stale reads and reads of pages whose put had an unknown or failed
// outcome are fine, since gets are not linearizable and any put may have sent those bytes.
import t from 'tap';
import { checkIntegrity } from '../../../src/chaos/checkers/index.js';
import { HistoryBuilder, PAGE_BYTES, page } from './helpers.js';

t.test('reads of written pages, stale or not, are fine', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.get(1, 'a', 2, 3, page(1));
  h.del(0, 'a', 4, 5);
  h.get(1, 'a', 6, 7, page(1)); // Stale: a replica that has not applied the delete yet.
  h.get(1, 'a', 8, 9, null);
  h.put(0, 'b', 2, 0, 1, 'unknown');
  h.get(1, 'b', 2, 3, page(2)); // The unknown put did take effect.
  h.put(0, 'c', 3, 0, 1, 'fail');
  h.get(1, 'c', 0.5, 3, page(3));
  h.get(2, 'd', 0, 1, null).outcome = 'fail';
  const result = checkIntegrity(h.build());
  t.equal(result.reads, 5);
  t.equal(result.pagesRead, 4);
  t.equal(result.corruptReads, 0);
});

t.test('planted bug: bytes no put wrote are a corrupt read', async (t) => {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  const flipped = h.get(1, 'a', 2, 3, { crc32c: 1 ^ 0x80, bytes: PAGE_BYTES });
  const truncated = h.get(1, 'a', 4, 5, { crc32c: 1, bytes: PAGE_BYTES - 1 });
  const otherKey = h.get(1, 'b', 4, 5, page(1)); // Key a's page served for key b.
  const result = checkIntegrity(h.build());
  t.equal(result.corruptReads, 3);
  t.same(
    result.corrupt.map((c) => [c.get.id, c.reason]),
    [
      [flipped.id, 'never-written'],
      [truncated.id, 'never-written'],
      [otherKey.id, 'never-written'],
    ],
  );
  t.same(result.corrupt[0].written, [page(1)]);
});

t.test('a page read before anyone began writing it is a corrupt read', async (t) => {
  const h = new HistoryBuilder();
  const early = h.get(1, 'a', 0, 1, page(1));
  h.put(0, 'a', 1, 2, 3, 'stored');
  h.get(1, 'a', 1.5, 2, page(1)); // Completed as the put was invoked: possible.
  const result = checkIntegrity(h.build());
  t.equal(result.corruptReads, 1);
  t.equal(result.corrupt[0].get.id, early.id);
  t.equal(result.corrupt[0].reason, 'written-later');
});
