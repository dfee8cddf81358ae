// Proves that the wal-tail nemesis's damage is what it claims to be, a torn tail, on real WALs
// (src/wal) in temp dirs: truncating or corrupting a last record that may be lost (an entry, or a
// hard state that only moved the commit index), or appending a torn record, leaves a WAL that
// opens, logs a torn tail and keeps everything else; a last record that must not be lost (a hard
// state with a new vote) gets a torn append instead, so the vote survives; a partial record
// already at the end is cut rather than flipped; and the record scan finds the whole records.
import fs from 'node:fs';
import path from 'node:path';
import t, { type Test } from 'tap';
import { damageWalTail, safeToLose, wholeRecords } from '../../src/chaos/wal-damage.js';
import { Prng } from '../../src/sim/index.js';
import { RecordType, Wal } from '../../src/wal/index.js';
import { entries, indexTerms, segmentFiles, tempDir } from '../wal/helpers.js';

/** 50 entries in saves of 10, each with a hard state of term 1, vote 1 (only the commit moves). */
async function writeLog(dir: string, last: 'hard-state' | 'entry' | 'new-vote'): Promise<void> {
  const wal = await Wal.open({ dir, fsync: false, logger: () => undefined });
  for (let first = 1; first <= 50; first += 10) await wal.save({ entries: entries(first, 10, 1, 100), hardState: { term: 1, vote: 1, commit: first } });
  if (last === 'entry') await wal.save({ entries: entries(51, 1, 1, 100) });
  if (last === 'new-vote') await wal.save({ entries: [], hardState: { term: 2, vote: 3, commit: 41 } });
  await wal.close();
}

async function reopen(t: Test, dir: string): Promise<{ wal: Wal; lines: string[] }> {
  const lines: string[] = [];
  const wal = await Wal.open({ dir, fsync: false, logger: (line) => lines.push(line) });
  t.teardown(() => wal.close());
  return { wal, lines };
}

const ALL_50 = entries(1, 50, 1).map((e) => [e.index, e.term]);

for (const kind of ['truncate', 'corrupt', 'torn-append'] as const) {
  t.test(`${kind} of a commit-only hard state: the WAL opens, drops only the torn tail, says so`, async (t) => {
    const dir = tempDir(t, 'kvc-chaos-wal-');
    await writeLog(dir, 'hard-state');
    const what = await damageWalTail(dir, new Prng(7), kind);
    t.match(what, { truncate: /truncated by \d+ bytes .*HardState/, corrupt: /corrupted at offset \d+ .*HardState/, 'torn-append': /torn append of \d+ bytes/ }[kind]);
    const { wal, lines } = await reopen(t, dir);
    t.ok(lines.some((line) => line.includes('torn tail')), `logged a torn tail: ${lines.join(' | ')}`);
    t.same(indexTerms(wal), ALL_50, 'every entry is still there');
    t.match(wal.initialState().hardState, { term: 1, vote: 1 });
  });
}

t.test('a last entry may be lost: it is cut, the entries before it stay', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-wal-');
  await writeLog(dir, 'entry');
  t.match(await damageWalTail(dir, new Prng(3), 'truncate'), /Entry/);
  const { wal } = await reopen(t, dir);
  t.same(indexTerms(wal), ALL_50, 'entry 51 is gone, 1-50 remain');
});

t.test('a hard state with a new vote is never lost: a torn append instead', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-wal-');
  await writeLog(dir, 'new-vote');
  for (const kind of ['truncate', 'corrupt'] as const) {
    const file = segmentFiles(dir).at(-1)!;
    const before = fs.readFileSync(file);
    t.match(await damageWalTail(dir, new Prng(5), kind), /torn append .*HardState/, `${kind} becomes a torn append`);
    fs.writeFileSync(file, before);
  }
  await damageWalTail(dir, new Prng(5), 'corrupt');
  const { wal, lines } = await reopen(t, dir);
  t.ok(lines.some((line) => line.includes('torn tail')));
  t.match(wal.initialState().hardState, { term: 2, vote: 3 }, 'the vote survives');
});

t.test('a partial record after the last whole one is cut, never flipped', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-wal-');
  await writeLog(dir, 'hard-state');
  fs.appendFileSync(segmentFiles(dir).at(-1)!, Buffer.from([200, 0, 0, 0, 1, 2, 3]));
  t.match(await damageWalTail(dir, new Prng(1), 'corrupt'), /truncated/);
  const { wal, lines } = await reopen(t, dir);
  t.ok(lines.some((line) => line.includes('torn tail')));
  t.same(indexTerms(wal), ALL_50);
});

t.test('wholeRecords walks whole records and stops at zeros or a cut-short one', async (t) => {
  const record = (body: number, type = 1): number[] => [body, 0, 0, 0, 9, 9, 9, 9, type, ...Array<number>(body).fill(7)];
  t.same(wholeRecords(Uint8Array.from([...record(3), ...record(2, 2)])), [
    { start: 0, end: 12, type: 1 },
    { start: 12, end: 23, type: 2 },
  ]);
  t.same(wholeRecords(Uint8Array.from([...record(3), ...Array<number>(20).fill(0)])), [{ start: 0, end: 12, type: 1 }]);
  t.same(wholeRecords(Uint8Array.from([...record(3), 50, 0, 0, 0, 1, 1, 1, 1, 1, 5])), [{ start: 0, end: 12, type: 1 }]);
  t.same(wholeRecords(new Uint8Array(4)), []);
  t.equal(safeToLose(new Uint8Array(0), []), false);
  const junk = Uint8Array.from([...record(1, RecordType.HardState), ...record(1, RecordType.HardState)]);
  t.equal(safeToLose(junk, wholeRecords(junk)), false, 'an undecodable hard state is not risked');
  const compaction = Uint8Array.from(record(2, RecordType.Compaction));
  t.equal(safeToLose(compaction, wholeRecords(compaction)), false);
});

t.test('nothing to damage: no segment, or a segment without a whole record', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-wal-');
  t.equal(await damageWalTail(dir, new Prng(1)), 'no WAL segment to damage');
  fs.writeFileSync(path.join(dir, '0000000000000001-0000000000000001.wal'), Buffer.alloc(3));
  t.match(await damageWalTail(dir, new Prng(1)), /holds no whole record/);
});
