// Proves how opening the WAL treats damage, on real files. Crashes come from a
// FaultInjectingFileLayer that tears a write (keeps a prefix of its bytes, then fails every
// call) at many points: inside the last record's header, its body, a multi-record batch, and a
// new segment's header. Each torn tail must be truncated away and logged with file and offset,
// keep everything before it, and leave a WAL that takes writes and reopens cleanly. Damage
// elsewhere (a flipped byte in an earlier record, a missing or damaged segment) must refuse to
// open with a WalCorruptionError naming file and offset, and `repair: true` must truncate the
// log there (deleting later segments) and log what was lost. A hole left by a deleted segment
// cannot be repaired. A record damaged after opening is reported when it is read back.

import fs from 'node:fs';
import t from 'tap';
import type { Test } from 'tap';
import { encodeEntry } from '../../src/codec/index.js';
import { bufferedFileLayer, FaultInjectingFileLayer, RECORD_HEADER_BYTES, SimulatedCrashError, WalCorruptionError } from '../../src/wal/index.js';
import type { Wal, WalOptions } from '../../src/wal/index.js';
import { entries, entry, flipByte, indexTerms, openWal as openWalDirect, payloadsIntact, recordOffsets, segmentFiles, tempDir } from './helpers.js';

// These tests tear writes at exact bytes and compare file sizes byte for byte: that is the page
// cache's model, so they write through it. Tears of direct appends (block-sized, zero padding)
// are in direct-wal.test.ts.
const openWal = (t: Test, options: WalOptions): ReturnType<typeof openWalDirect> => openWalDirect(t, { files: bufferedFileLayer, ...options });

const PAYLOAD_BYTES = 100;
const HARD_STATE = { term: 1, vote: 1, commit: 4 };

function recordBytes(index: number, term: number): number {
  return RECORD_HEADER_BYTES + encodeEntry(entry(index, term, PAYLOAD_BYTES)).byteLength;
}

/** A WAL holding entries 1..5 and a hard state, and the fault layer under it. */
async function fiveEntries(t: Test, options: Partial<WalOptions> = {}): Promise<{ dir: string; files: FaultInjectingFileLayer; wal: Wal }> {
  const dir = tempDir(t);
  const files = new FaultInjectingFileLayer(bufferedFileLayer);
  const { wal } = await openWal(t, { dir, files, ...options });
  await wal.save({ entries: entries(1, 3, 1, PAYLOAD_BYTES), hardState: HARD_STATE });
  await wal.append(entries(4, 2, 1, PAYLOAD_BYTES));
  return { dir, files, wal };
}

/** Reopens `dir` with a clean layer (a restarted process) and returns the WAL and its log lines. */
async function restart(t: Test, wal: Wal, dir: string, options: Partial<WalOptions> = {}): Promise<{ wal: Wal; lines: string[] }> {
  await wal.close();
  return await openWal(t, { dir, ...options });
}

t.test('a torn final record is truncated and logged, at every tear point', async (t) => {
  const total = recordBytes(6, 1);
  const points = [1, 4, 7, 8, RECORD_HEADER_BYTES, RECORD_HEADER_BYTES + 1, Math.floor(total / 2), total - 1];
  for (const keep of points) {
    const { dir, files, wal } = await fiveEntries(t);
    const [segment] = segmentFiles(dir);
    const sizeBefore = fs.statSync(segment!).size;
    files.tearNextWrite(keep);
    await t.rejects(wal.append([entry(6, 1, PAYLOAD_BYTES)]), SimulatedCrashError, `tear after ${keep} of ${total} bytes`);
    t.equal(fs.statSync(segment!).size, sizeBefore + keep, `${keep} bytes of the record reached the file`);
    const restarted = await restart(t, wal, dir);
    const line = restarted.lines.find((l) => l.includes('torn tail'));
    t.match(line, `torn tail in ${segment} at offset ${sizeBefore}`, `tear at ${keep}: logged with file and offset`);
    t.equal(fs.statSync(segment!).size, sizeBefore, `tear at ${keep}: the partial record is gone from the file`);
    t.equal(restarted.wal.lastIndex(), 5, `tear at ${keep}: entries 1..5 kept`);
    t.ok(payloadsIntact(restarted.wal, PAYLOAD_BYTES), `tear at ${keep}: payloads intact`);
    t.same(restarted.wal.initialState().hardState, HARD_STATE, `tear at ${keep}: hard state kept`);
    await restarted.wal.append([entry(6, 2, PAYLOAD_BYTES)]);
    const again = await restart(t, restarted.wal, dir);
    t.notOk(again.lines.some((l) => l.includes('torn tail')), `tear at ${keep}: the next open finds nothing to cut`);
    t.same(indexTerms(again.wal).slice(-2), [[5, 1], [6, 2]], `tear at ${keep}: the new entry 6 is there`);
  }
});

t.test('a tear before any byte was written leaves nothing to cut', async (t) => {
  const { dir, files, wal } = await fiveEntries(t);
  files.tearNextWrite(0);
  await t.rejects(wal.append([entry(6, 1, PAYLOAD_BYTES)]), SimulatedCrashError);
  const restarted = await restart(t, wal, dir);
  t.notOk(restarted.lines.some((l) => l.includes('torn tail')), 'no torn tail');
  t.equal(restarted.wal.lastIndex(), 5, 'entries 1..5');
});

t.test('a tear inside a multi-record batch keeps the whole records before it', async (t) => {
  const { dir, files, wal } = await fiveEntries(t);
  const keep = recordBytes(6, 2) + recordBytes(7, 2) + RECORD_HEADER_BYTES + 20;
  files.tearNextWrite(keep);
  const batch = { entries: entries(6, 3, 2, PAYLOAD_BYTES), hardState: { term: 2, vote: 2, commit: 8 } };
  await t.rejects(wal.save(batch), SimulatedCrashError);
  const restarted = await restart(t, wal, dir);
  t.match(restarted.lines.join('\n'), /torn tail in .* at offset \d+ \(a record cut short/, 'the torn third entry is logged');
  t.same(indexTerms(restarted.wal).slice(-3), [[5, 1], [6, 2], [7, 2]], 'entries 6 and 7 were whole and are kept');
  t.same(restarted.wal.initialState().hardState, HARD_STATE, 'the hard state after the tear is not');
});

t.test('a tear inside the header of a new segment empties that segment', async (t) => {
  for (const keep of [3, RECORD_HEADER_BYTES + 10]) {
    const dir = tempDir(t);
    const files = new FaultInjectingFileLayer(bufferedFileLayer);
    const { wal } = await openWal(t, { dir, files, segmentBytes: 600 });
    for (let index = 1; index <= 4; index++) await wal.append([entry(index, 1, PAYLOAD_BYTES)]);
    const segmentsBefore = segmentFiles(dir).length;
    files.tearNextWrite(keep);
    // Each segment holds a few records: this save rolls over into a new one.
    const first = wal.lastIndex() + 1;
    await t.rejects(wal.append(entries(first, 5, 1, PAYLOAD_BYTES)), SimulatedCrashError);
    const newSegment = segmentFiles(dir)[segmentsBefore]!;
    t.ok(newSegment !== undefined, 'the save created a new segment');
    const restarted = await restart(t, wal, dir);
    t.match(restarted.lines.join('\n'), `torn tail in ${newSegment} at offset 0`, `tear at ${keep}: logged`);
    t.equal(fs.statSync(newSegment).size, 0, `tear at ${keep}: the new segment is empty`);
    t.equal(restarted.wal.lastIndex(), first - 1, `tear at ${keep}: the log before the batch is kept`);
    await restarted.wal.append(entries(first, 2, 2, PAYLOAD_BYTES));
    const again = await restart(t, restarted.wal, dir);
    t.same(indexTerms(again.wal).slice(-2), [[first, 2], [first + 1, 2]], `tear at ${keep}: the empty segment took the next batch`);
    t.ok(payloadsIntact(again.wal, PAYLOAD_BYTES), `tear at ${keep}: payloads intact`);
  }
});

t.test('a zero-filled tail and a bad checksum in the last record are torn tails', async (t) => {
  const zeros = await fiveEntries(t);
  const [segment] = segmentFiles(zeros.dir);
  await zeros.wal.close();
  const size = fs.statSync(segment!).size;
  fs.appendFileSync(segment!, Buffer.alloc(4096));
  const a = await openWal(t, { dir: zeros.dir });
  t.match(a.lines.join('\n'), `torn tail in ${segment} at offset ${size}`, 'zeros after the last record are cut');
  t.equal(a.wal.lastIndex(), 5, 'nothing lost');

  const flipped = await fiveEntries(t);
  const [last] = segmentFiles(flipped.dir);
  const offsets = recordOffsets(last!);
  flipByte(last!, fs.statSync(last!).size - 1);
  const b = await restart(t, flipped.wal, flipped.dir);
  t.match(b.lines.join('\n'), `torn tail in ${last} at offset ${offsets[offsets.length - 1]} (a record whose checksum does not match)`, 'logged');
  t.equal(b.wal.lastIndex(), 4, 'the last record (entry 5) is cut');
});

/** A WAL of several small segments holding entries 1..40, closed. */
async function manySegments(t: Test): Promise<{ dir: string; files: string[] }> {
  const dir = tempDir(t);
  const { wal } = await openWal(t, { dir, fsync: false, segmentBytes: 1000 });
  for (let first = 1; first <= 40; first += 4) await wal.append(entries(first, 4, 1, PAYLOAD_BYTES));
  await wal.close();
  const files = segmentFiles(dir);
  t.ok(files.length >= 5, `${files.length} segments`);
  return { dir, files };
}

function firstIndexOf(file: string): number {
  return Number(/(\d{16})\.wal$/.exec(file)![1]);
}

t.test('damage before the tail refuses to open, naming file and offset; repair truncates there', async (t) => {
  const { dir, files } = await manySegments(t);
  const damaged = files[1]!;
  const offset = recordOffsets(damaged)[2]!;
  flipByte(damaged, offset + RECORD_HEADER_BYTES + 20);
  const error = await openWal(t, { dir }).catch((e: unknown) => e);
  t.ok(error instanceof WalCorruptionError, 'a WalCorruptionError');
  t.match(error, { code: 'KVC_WAL_CORRUPT', file: damaged, offset }, 'with code, file and offset');
  t.match((error as Error).message, /repair: true.*docs\/WAL\.md/s, 'the message says how to repair');
  t.same(segmentFiles(dir), files, 'a refused open changes nothing on disk');

  const repaired = await openWal(t, { dir, repair: true });
  const log = repaired.lines.join('\n');
  t.match(log, `REPAIR: ${damaged} is damaged at offset ${offset}`, 'the repair is logged with file and offset');
  t.match(log, `and ${files.length - 2} later segments`, 'with the segments it dropped');
  t.equal(repaired.wal.lastIndex(), firstIndexOf(damaged), 'the log ends at the record before the damage');
  t.same(segmentFiles(dir), files.slice(0, 2), 'later segments are deleted');
  t.equal(fs.statSync(damaged).size, offset, 'the damaged segment is cut at the damage');
  const next = repaired.wal.lastIndex() + 1;
  await repaired.wal.append(entries(next, 3, 2, PAYLOAD_BYTES));
  const again = await restart(t, repaired.wal, dir);
  t.equal(again.wal.lastIndex(), next + 2, 'the repaired log takes writes and reopens');
  t.ok(payloadsIntact(again.wal, PAYLOAD_BYTES), 'payloads intact');
});

t.test('damage inside the last segment but before its tail is corruption too', async (t) => {
  const { dir, files } = await manySegments(t);
  const last = files[files.length - 1]!;
  const offsets = recordOffsets(last);
  t.ok(offsets.length >= 3, 'the last segment holds several records');
  flipByte(last, offsets[1]! + RECORD_HEADER_BYTES + 3);
  await t.rejects(openWal(t, { dir }), { code: 'KVC_WAL_CORRUPT', file: last, offset: offsets[1] });
});

t.test('a damaged segment header: repair drops the segment and everything after it', async (t) => {
  const { dir, files } = await manySegments(t);
  flipByte(files[2]!, RECORD_HEADER_BYTES + 1);
  await t.rejects(openWal(t, { dir }), { code: 'KVC_WAL_CORRUPT', file: files[2], offset: 0 });
  const repaired = await openWal(t, { dir, repair: true });
  t.same(segmentFiles(dir), files.slice(0, 2), 'the damaged segment and later ones are gone');
  t.equal(repaired.wal.lastIndex(), firstIndexOf(files[2]!) - 1, 'the log ends where the damaged segment began');
});

t.test('a missing segment is corruption; a hole cannot be repaired', async (t) => {
  const middle = await manySegments(t);
  fs.rmSync(middle.files[2]!);
  const error = await openWal(t, { dir: middle.dir }).catch((e: unknown) => e);
  t.match(error, { code: 'KVC_WAL_CORRUPT', file: middle.files[3], offset: 0 }, 'named at the segment after the gap');
  t.match((error as Error).message, /missing/, 'saying a segment is missing');

  const head = await manySegments(t);
  fs.rmSync(head.files[0]!);
  for (const repair of [false, true]) {
    const hole = await openWal(t, { dir: head.dir, repair }).catch((e: unknown) => e);
    t.match(hole, { code: 'KVC_WAL_CORRUPT', file: head.files[1], offset: 0 }, `repair ${repair}: the first segment is gone`);
    t.match((hole as Error).message, /entries 1 to \d+ are missing.*Wipe/s, `repair ${repair}: the advice is to wipe`);
  }
});

t.test('a record damaged after opening is reported when read back', async (t) => {
  const dir = tempDir(t);
  const { wal } = await openWal(t, { dir, fsync: false, entryCacheBytes: 0 });
  await wal.append(entries(1, 5, 1, PAYLOAD_BYTES));
  const [segment] = segmentFiles(dir);
  const offset = recordOffsets(segment!)[3]!;
  flipByte(segment!, offset + RECORD_HEADER_BYTES + 30);
  t.same(wal.entries(1, 3, Infinity).length, 2, 'undamaged records read fine');
  t.throws(() => wal.entries(1, 6, Infinity), { code: 'KVC_WAL_CORRUPT', file: segment, offset }, 'entry 3 is refused');
});
