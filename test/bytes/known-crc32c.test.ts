// Proves the noted checksums (src/bytes/known-crc32c.ts) that let a member checksum a payload once:
// crc32cKnowing equals crc32c over a buffer with noted ranges anywhere inside it (start, middle,
// end, the whole, two of them, overlapping ones, with a seed), and uses a note instead of the
// bytes (a note that lies changes the result, so the bytes were not read); a note only counts
// for the exact range it was made for, from any view of the same memory, and small ranges are
// not noted. A follower's notePayloadChecksums (src/node/proposal.ts) notes a replicated page
// that matches its crc32c and leaves one that does not to the apply, and the apply takes the
// command decoded there instead of decoding it again. Last, a WAL record written
// with a noted payload reads back whole: its checksum is the one over its bytes; and one with a
// note that lies fails its checksum (the WAL took the note on trust and did not read the payload).
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { KNOWN_CRC32C_BYTES_MIN, crc32c, crc32cKnowing, knownCrc32c, noteCrc32c } from '../../src/bytes/index.js';
import { decodeProposal, encodeProposal, notePayloadChecksums } from '../../src/node/proposal.js';
import { EntryType, type Entry } from '../../src/raft/index.js';
import { Wal } from '../../src/wal/index.js';
import { prng } from '../codec/prng.js';

const RANGE = KNOWN_CRC32C_BYTES_MIN;

function randomBuffer(bytes: number, seed: number): Uint8Array {
  const next = prng(seed);
  const out = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) out[i] = next() & 0xff;
  return out;
}

t.test('crc32cKnowing is crc32c whatever is noted inside', async (t) => {
  const cases: { name: string; ranges: [number, number][] }[] = [
    { name: 'nothing noted', ranges: [] },
    { name: 'a range at the start', ranges: [[0, RANGE]] },
    { name: 'a range in the middle', ranges: [[1000, RANGE + 3]] },
    { name: 'a range at the end', ranges: [[4 * RANGE - RANGE - 5, RANGE + 5]] },
    { name: 'the whole buffer', ranges: [[0, 4 * RANGE]] },
    { name: 'two ranges', ranges: [[7, RANGE], [2 * RANGE, RANGE + 1]] },
    { name: 'overlapping ranges', ranges: [[100, 2 * RANGE], [RANGE, 2 * RANGE]] },
  ];
  for (const [i, c] of cases.entries()) {
    const whole = randomBuffer(4 * RANGE, i + 1);
    for (const [at, bytes] of c.ranges) {
      const range = whole.subarray(at, at + bytes);
      noteCrc32c(range, crc32c(range));
    }
    t.equal(crc32cKnowing(whole), crc32c(whole), c.name);
    t.equal(crc32cKnowing(whole, 0xdead_beef), crc32c(whole, 0xdead_beef), `${c.name}, with a seed`);
    const part = whole.subarray(3, whole.byteLength - 2);
    t.equal(crc32cKnowing(part), crc32c(part), `${c.name}, a view that may cut a range (not used then)`);
  }
});

t.test('a note is used instead of the bytes, and only for its exact range', async (t) => {
  const whole = randomBuffer(3 * RANGE, 99);
  const range = whole.subarray(RANGE, 2 * RANGE);
  const lie = (crc32c(range) ^ 1) >>> 0;
  noteCrc32c(range, lie);
  t.not(crc32cKnowing(whole), crc32c(whole), 'the lying note changed the whole checksum: the range was not read');
  t.equal(knownCrc32c(range), lie, 'the exact range finds its note');
  t.equal(knownCrc32c(new Uint8Array(whole.buffer, whole.byteOffset + RANGE, RANGE)), lie, 'another view of the same bytes finds it');
  t.equal(knownCrc32c(whole.subarray(RANGE, 2 * RANGE - 1)), undefined, 'a shorter range does not');
  t.equal(knownCrc32c(whole.subarray(RANGE + 1, 2 * RANGE)), undefined, 'a range at another offset does not');
  t.equal(knownCrc32c(randomBuffer(RANGE, 99)), undefined, 'equal bytes elsewhere do not');
  const small = whole.subarray(0, RANGE - 1);
  noteCrc32c(small, 0);
  t.equal(knownCrc32c(small), undefined, 'a range below the minimum is not noted');
});

function putEntry(index: number, data: Uint8Array, crc: number): Entry {
  const meta = { ns: 'n', key: new Uint8Array([index]), dtype: 'u8' as const, shape: [data.byteLength], tokens: 16, bytes: data.byteLength, crc32c: crc, createdAtMs: 1 };
  return { term: 1, index, type: EntryType.Normal, data: encodeProposal(1, index, { op: 'put', pages: [{ meta, data }] }) };
}

function payloadOf(entry: Entry): Uint8Array {
  const { command } = decodeProposal(entry.data);
  if (command.op !== 'put') throw new Error('not a put');
  return command.pages[0]!.data;
}

t.test("a follower notes a replicated payload that matches its page's crc32c, and only that", async (t) => {
  const good = randomBuffer(2 * RANGE, 5);
  const bad = randomBuffer(2 * RANGE, 6);
  const small = randomBuffer(RANGE - 1, 7);
  const entries = [putEntry(1, good, crc32c(good)), putEntry(2, bad, crc32c(bad) ^ 1), putEntry(3, small, crc32c(small))];
  notePayloadChecksums(entries);
  t.equal(knownCrc32c(payloadOf(entries[0]!)), crc32c(good), 'the matching payload is noted where the entry holds it');
  t.equal(knownCrc32c(payloadOf(entries[1]!)), undefined, 'a payload that does not match is left to the apply');
  t.equal(knownCrc32c(payloadOf(entries[2]!)), undefined, 'a small payload is left alone');
  t.equal(crc32cKnowing(entries[0]!.data), crc32c(entries[0]!.data), "the entry's checksum with the note is the one over its bytes");
});

t.test("a follower decodes a put's command once: its apply takes the one decoded on receipt, once", async (t) => {
  const payload = randomBuffer(2 * RANGE, 8);
  const entry = putEntry(1, payload, crc32c(payload));
  notePayloadChecksums([entry]);
  const HEADER_BYTES = 9; // [version u8][proposer u32][seq u32], then the command
  entry.data[HEADER_BYTES] = 0xc1; // a byte msgpack never uses: decoding the command now throws
  const { command } = decodeProposal(entry.data);
  t.equal(command.op, 'put', 'the first decode (the apply) takes the command decoded on receipt, not the bytes');
  if (command.op === 'put') t.ok(Buffer.from(command.pages[0]!.data).equals(Buffer.from(payload)), 'with its payload');
  t.throws(() => decodeProposal(entry.data), 'taken once: a second decode reads the bytes again');
});

t.test('a WAL record with a noted payload reads back whole', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-known-crc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const payload = randomBuffer(4 * RANGE, 11);
  const entry = putEntry(1, payload, crc32c(payload));
  notePayloadChecksums([entry]);
  t.ok(knownCrc32c(payloadOf(entry)) !== undefined, 'noted');
  const wal = await Wal.open({ dir });
  await wal.save({ entries: [entry], sync: true });
  await wal.close();
  const again = await Wal.open({ dir }); // refuses a log with a damaged record
  t.teardown(() => again.close());
  const [read] = again.entries(1, 2, Number.MAX_SAFE_INTEGER);
  t.same(Buffer.from(read!.data), Buffer.from(entry.data), 'the entry reads back, its record checksum intact');
});

t.test('the WAL takes a noted checksum on trust: a note that lies makes a record that fails its checksum', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-known-crc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const payload = randomBuffer(4 * RANGE, 12);
  const entry = putEntry(1, payload, crc32c(payload));
  noteCrc32c(payloadOf(entry), crc32c(payload) ^ 1);
  const wal = await Wal.open({ dir });
  await wal.save({ entries: [entry], sync: true });
  await wal.close();
  const lines: string[] = [];
  const again = await Wal.open({ dir, logger: (line) => lines.push(line) });
  t.teardown(() => again.close());
  t.equal(again.lastIndex(), 0, 'the record fails its checksum (cut as a torn tail): the payload was not read again');
  t.ok(lines.some((line) => /torn|damage|checksum/i.test(line)), `the WAL says so: ${lines.join(' | ')}`);
});
