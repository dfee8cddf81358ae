// The WAL over direct appends (src/io, KVC_APPEND_IO=direct; set below for this file's process): a segment left behind by a rollover and
// a cleanly closed one end at their last record (recovery accepts a zero tail only in the last
// segment); a crash leaves the last segment padded with zeros, which the next open cuts as a torn
// tail with nothing lost; and a direct write torn by a crash loses only the records the tear cut.

import fs from 'node:fs';
import t from 'tap';
import { Appender, setAppendMode } from '../../src/io/index.js';
import { FaultInjectingFileLayer, nodeFileLayer, RECORD_HEADER_BYTES, SimulatedCrashError } from '../../src/wal/index.js';
import { entries, indexTerms, openWal, payloadsIntact, segmentFiles, tempDir } from './helpers.js';

setAppendMode('direct'); // every layer and appender of this process ('dropped' is the default)

const PAYLOAD_BYTES = 5000; // records of ~5 KiB: every write ends inside a block
const SEGMENT_BYTES = 64 * 1024;

/** The byte where the records of `file` end: the first all-zero record header, or the file's end. */
function recordsEnd(file: string): number {
  const bytes = fs.readFileSync(file);
  let at = 0;
  while (at + RECORD_HEADER_BYTES <= bytes.byteLength && !bytes.subarray(at, at + RECORD_HEADER_BYTES).every((b) => b === 0)) {
    at += RECORD_HEADER_BYTES + bytes.readUInt32LE(at);
  }
  return Math.min(at, bytes.byteLength);
}

t.test('this filesystem takes direct appends (else the tests below prove nothing new)', async (t) => {
  const dir = tempDir(t);
  const file = `${dir}/probe`;
  fs.writeFileSync(file, '');
  const appender = await Appender.open(file, 0);
  t.ok(appender.direct, 'O_DIRECT works here');
  await appender.close();
});

t.test('rollovers and a clean close leave every segment ending at its last record', async (t) => {
  const dir = tempDir(t);
  const { wal } = await openWal(t, { dir, segmentBytes: SEGMENT_BYTES });
  for (let k = 0; k < 40; k += 4) await wal.save({ entries: entries(k + 1, 4, 1, PAYLOAD_BYTES), hardState: { term: 1, vote: 1, commit: k } });
  const files = segmentFiles(dir);
  t.ok(files.length >= 3, `${files.length} segments`);
  for (const file of files.slice(0, -1)) t.equal(fs.statSync(file).size, recordsEnd(file), `${file}: no padding after the rollover`);
  const active = files[files.length - 1]!;
  t.ok(fs.statSync(active).size > recordsEnd(active), 'the active segment is padded to a block while it is written');
  t.equal(fs.statSync(active).size % 4096, 0, 'to a block boundary');
  await wal.close();
  t.equal(fs.statSync(active).size, recordsEnd(active), 'closed: cut at its last record');
  const reopened = await openWal(t, { dir });
  t.notMatch(reopened.lines.join('\n'), /torn tail/, 'a clean reopen finds no torn tail');
  t.equal(reopened.wal.lastIndex(), 40, 'every entry');
  t.ok(payloadsIntact(reopened.wal, PAYLOAD_BYTES), 'payloads intact');
});

t.test('a crash leaves zeros after the last record; the next open cuts them and loses nothing', async (t) => {
  const dir = tempDir(t);
  const files = new FaultInjectingFileLayer(nodeFileLayer);
  const { wal } = await openWal(t, { dir, files, segmentBytes: SEGMENT_BYTES });
  for (let k = 0; k < 20; k += 2) await wal.save({ entries: entries(k + 1, 2, 1, PAYLOAD_BYTES), hardState: { term: 1, vote: 1, commit: k } });
  files.crash();
  const last = segmentFiles(dir).pop()!;
  const end = recordsEnd(last);
  t.ok(fs.statSync(last).size > end, 'the crashed segment ends in padding');
  const reopened = await openWal(t, { dir });
  t.match(reopened.lines.join('\n'), `torn tail in ${last} at offset ${end}`, 'cut as a torn tail at the end of the last record');
  t.equal(fs.statSync(last).size, end, 'the file ends at its last record');
  t.same(indexTerms(reopened.wal).length, 20, 'every entry saved before the crash');
  t.ok(payloadsIntact(reopened.wal, PAYLOAD_BYTES), 'payloads intact');
  await reopened.wal.save({ entries: entries(21, 1, 1, PAYLOAD_BYTES) });
  await reopened.wal.close();
  t.equal((await openWal(t, { dir })).wal.lastIndex(), 21, 'and the log goes on after the cut');
});

t.test('a direct write torn by a crash loses only what the tear cut', async (t) => {
  for (const keep of [1, 4095, 4096, 4097, 2 * PAYLOAD_BYTES - 1]) {
    const dir = tempDir(t);
    const files = new FaultInjectingFileLayer(nodeFileLayer);
    const { wal } = await openWal(t, { dir, files, segmentBytes: SEGMENT_BYTES });
    await wal.save({ entries: entries(1, 5, 1, PAYLOAD_BYTES), hardState: { term: 1, vote: 1, commit: 5 } });
    files.tearNextWrite(keep);
    await t.rejects(wal.save({ entries: entries(6, 2, 1, PAYLOAD_BYTES) }), SimulatedCrashError, `tear after ${keep} bytes`);
    const reopened = await openWal(t, { dir });
    t.match(reopened.lines.join('\n'), /torn tail/, `tear at ${keep}: cut as a torn tail`);
    // The batch's first record is ~5 KiB: a tear past it keeps that whole record.
    const kept = keep > PAYLOAD_BYTES + 100 ? 6 : 5;
    t.equal(reopened.wal.lastIndex(), kept, `tear at ${keep}: the whole records before the tear are kept, entry ${kept} last`);
    t.ok(payloadsIntact(reopened.wal, PAYLOAD_BYTES), `tear at ${keep}: payloads intact`);
  }
});
