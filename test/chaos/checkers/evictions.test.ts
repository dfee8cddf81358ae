// Proves how the checkers account for evictions from the replicated removal record
// (history.removals): a missing acknowledged page whose key the record shows evicted (or expired)
// is evicted, not lost; a missing page whose key a trimmed record does not name is undecided
// (`trimmed`, and the verdict is not ok); a missing page with a complete record that does not name
// its key, or with no record at all, is lost. For linearizability, a lookup that finds an evicted
// page absent is legal, while the key's other operations are still checked (a planted violation
// on an evicted key is still found). Histories, final states and records are written by hand
// (times in ms, page tags stand for crc32c values), and the report's JSON round trip keeps the
// record so `--recheck` decides the same.
import t from 'tap';
import { checkDurability, checkHistory, checkLinearizability } from '../../../src/chaos/checkers/index.js';
import type { RemovalEntry, RemovalEvidence } from '../../../src/chaos/history.js';
import { historyJsonLines, parseHistoryJsonLines } from '../../../src/chaos/report.js';
import { HistoryBuilder } from './helpers.js';

/** A record read at applied index 100 whose counters match its entries unless told otherwise. */
function record(entries: Array<Partial<RemovalEntry> & { key: string }>, counters: { evictedPages?: number } = {}): RemovalEvidence {
  const full: RemovalEntry[] = entries.map((entry, i) => ({ index: 10 + i, ns: 'chaos', reason: 'evicted', ...entry }));
  const evicted = full.filter((entry) => entry.reason === 'evicted').length;
  return {
    member: 1,
    appliedIndex: 100,
    oldestIndex: full[0]?.index ?? 0,
    evictedPages: counters.evictedPages ?? evicted,
    evictedBytes: 4096 * (counters.evictedPages ?? evicted),
    expiredPages: full.filter((entry) => entry.reason === 'expired').length,
    entries: full,
  };
}

/** Key `a` acknowledged and then missing everywhere; key `b` acknowledged and present. */
function missingA(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.put(1, 'b', 2, 0, 1, 'stored');
  h.final(1, { a: null, b: 2 }).final(2, { a: null, b: 2 });
  return h;
}

t.test('a missing page whose key the record shows evicted is evicted, not lost', async (t) => {
  const history = { ...missingA().build(), removals: record([{ key: 'b', reason: 'deleted' }, { key: 'a' }]) };
  const result = checkDurability(history);
  t.equal(result.lostPuts, 0);
  t.equal(result.evictedPages, 1);
  t.equal(result.trimmedPages, 0);
  t.same(result.evicted.map((page) => page.key), ['a']);
  t.match(result.removalRecord, { complete: true, evictedEntries: 1, deletedEntries: 1, keysEvicted: 1 });

  const expired = checkDurability({ ...missingA().build(), removals: record([{ key: 'a', reason: 'expired' }]) });
  t.equal(expired.evictedPages, 1, 'an expiry accounts for it the same way');
  t.equal(expired.lostPuts, 0);

  const verdict = checkHistory(history);
  t.equal(verdict.ok, true, verdict.failures.join('; '));
  t.equal(verdict.lostPuts, 0);
});

t.test('a missing page with no eviction record of its key is lost', async (t) => {
  const deletedOnly = checkDurability({ ...missingA().build(), removals: record([{ key: 'a', reason: 'deleted' }, { key: 'b' }]) });
  t.equal(deletedOnly.lostPuts, 1, 'a delete record (no delete in the history can follow) excuses nothing, nor an eviction of another key');
  t.same(deletedOnly.lost.map((page) => page.key), ['a']);
  t.equal(deletedOnly.evictedPages, 0);

  const otherNamespace = checkDurability({ ...missingA().build(), removals: record([{ key: 'a', ns: 'other' }]) });
  t.equal(otherNamespace.lostPuts, 1, 'the same key in another namespace is another page');

  const noRecord = checkDurability(missingA().build());
  t.equal(noRecord.lostPuts, 1, 'without a record nothing is excused');
  t.equal(noRecord.removalRecord, undefined);
  t.equal(checkHistory(missingA().build()).ok, false);
});

t.test('a trimmed record leaves a page it does not name undecided, never evicted', async (t) => {
  // The counters know of 3 evictions; the record kept 1 (of key b): 2 were trimmed.
  const history = { ...missingA().build(), removals: record([{ key: 'b' }], { evictedPages: 3 }) };
  const result = checkDurability(history);
  t.equal(result.trimmedPages, 1);
  t.equal(result.lostPuts, 0);
  t.equal(result.evictedPages, 0);
  t.same(result.trimmed.map((page) => page.key), ['a']);
  t.match(result.removalRecord, { complete: false });
  const verdict = checkHistory(history);
  t.equal(verdict.ok, false, 'undecided is not ok');
  t.match(verdict.failures.join('\n'), /1 acknowledged pages are missing and the removal record that could explain them was trimmed/);

  const named = checkDurability({ ...missingA().build(), removals: record([{ key: 'a' }], { evictedPages: 3 }) });
  t.equal(named.evictedPages, 1, 'a key the trimmed record still names is evicted');

  // Entries past the counters' applied index do not make up for trimmed ones.
  const late = record([{ key: 'b' }, { key: 'c', index: 150 }], { evictedPages: 2 });
  t.equal(checkDurability({ ...missingA().build(), removals: late }).trimmedPages, 1);
});

/** Key `a`: a page acknowledged, then a linearizable lookup that finds nothing, with no delete. */
function lookupAfterEviction(): HistoryBuilder {
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.lookup(1, 'a', 2, 3, 'present');
  h.lookup(1, 'a', 10, 11, 'absent');
  h.final(1, { a: null }).final(2, { a: null });
  return h;
}

t.test('a lookup that finds an evicted page absent is linearizable', async (t) => {
  const without = checkLinearizability(lookupAfterEviction().build());
  t.equal(without.linearizable, false, 'without the record no order explains the absent lookup');

  const evicted = checkLinearizability({ ...lookupAfterEviction().build(), removals: record([{ key: 'a' }]) });
  t.equal(evicted.linearizable, true);
  t.equal(evicted.keysWithEvictions, 1);

  const trimmed = checkLinearizability({ ...lookupAfterEviction().build(), removals: record([{ key: 'z' }], { evictedPages: 5 }) });
  t.equal(trimmed.linearizable, true, 'a trimmed record may hide an eviction of any key');
});

t.test('an evicted key is still checked: one eviction cannot explain two absences', async (t) => {
  // Two puts acknowledged one after the other, each followed by an absent lookup: two removals
  // are needed, and the record (and history) show only one.
  const h = new HistoryBuilder();
  h.put(0, 'a', 1, 0, 1, 'stored');
  h.lookup(1, 'a', 2, 3, 'absent');
  h.put(0, 'a', 2, 4, 5, 'stored');
  h.lookup(1, 'a', 6, 7, 'absent');
  const once = checkLinearizability({ ...h.build(), removals: record([{ key: 'a' }]) });
  t.equal(once.linearizable, false);
  const twice = checkLinearizability({ ...h.build(), removals: record([{ key: 'a' }, { key: 'a' }]) });
  t.equal(twice.linearizable, true, 'two evictions of the key explain it');

  // A put answered exists-different while the key was absent for everyone is still caught.
  const wrong = new HistoryBuilder();
  wrong.put(0, 'a', 1, 0, 1, 'stored');
  wrong.lookup(1, 'a', 2, 3, 'absent');
  wrong.put(0, 'a', 2, 4, 5, 'exists-different');
  wrong.lookup(1, 'a', 6, 7, 'absent');
  t.equal(checkLinearizability({ ...wrong.build(), removals: record([{ key: 'a' }]) }).linearizable, false);
});

t.test('the removal record and the budget survive history.jsonl', async (t) => {
  const history = { ...missingA().build(), budgetBytes: 32 * 1024 * 1024, removals: record([{ key: 'a' }]) };
  const back = parseHistoryJsonLines(historyJsonLines(history));
  t.same(back.removals, history.removals);
  t.equal(back.budgetBytes, history.budgetBytes);
  t.equal(checkHistory(back).details.durability.evictedPages, 1);
});
