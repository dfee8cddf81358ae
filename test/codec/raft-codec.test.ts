// Proves that the Raft record codecs (src/codec/raft-codec.ts) round-trip every field of Entry,
// HardState, SnapshotMetadata and Message (every message type, entries arrays, optional snapshot
// and context, 0-byte and 32 MiB payloads, integers up to 2^53 - 1), that decoded binary fields
// are views into the input rather than copies, that a large record is encoded into a buffer
// sized for it (no doubling, no sharing with later records), and that encoders and decoders
// refuse out-of-range or mistyped fields, and records of another kind, with a CodecError.

import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import {
  CodecError,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshotMeta,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshotMeta,
} from '../../src/codec/index.js';
import { EntryType, MessageType, type Entry, type Message } from '../../src/raft/index.js';
import { prng } from './prng.js';

const MIB = 1024 * 1024;
const PAGE_BYTES = 32 * MIB;
const RANDOM_MESSAGES = 300;

function bytesOf(...values: number[]): Uint8Array {
  return Uint8Array.from(values);
}

/** True when `part` lies inside `whole`'s memory (the same ArrayBuffer, within its range). */
function isViewInto(part: Uint8Array, whole: Uint8Array): boolean {
  return (
    part.buffer === whole.buffer &&
    part.byteOffset >= whole.byteOffset &&
    part.byteOffset + part.byteLength <= whole.byteOffset + whole.byteLength
  );
}

function bigPayload(): Uint8Array {
  const data = new Uint8Array(PAGE_BYTES);
  for (let i = 0; i < data.length; i += 4093) data[i] = i & 0xff;
  data[data.length - 1] = 0x5a;
  return data;
}

function message(overrides: Partial<Message>): Message {
  return {
    type: MessageType.App, to: 2, from: 1, term: 3, logTerm: 2, index: 10, entries: [], commit: 9,
    reject: false, rejectHint: 0, ...overrides,
  };
}

t.test('Entry round-trips, with its payload as a view into the encoded bytes', async (t) => {
  const entries: Entry[] = [
    { term: 0, index: 0, type: EntryType.Normal, data: new Uint8Array(0) },
    { term: 7, index: 42, type: EntryType.ConfChange, data: bytesOf(0, 0, 0, 0, 2, 104, 105) },
    { term: Number.MAX_SAFE_INTEGER, index: 2 ** 40 + 1, type: EntryType.Normal, data: bytesOf(255) },
  ];
  for (const entry of entries) {
    const encoded = encodeEntry(entry);
    const decoded = decodeEntry(encoded);
    t.same(decoded, entry, `term ${entry.term} index ${entry.index}`);
    t.equal(decoded.data.constructor, Uint8Array, 'data is a plain Uint8Array');
    t.ok(decoded.data.byteLength === 0 || isViewInto(decoded.data, encoded), 'data is not a copy');
  }
  const fromBuffer = decodeEntry(Buffer.from(encodeEntry(entries[1])));
  t.equal(fromBuffer.data.constructor, Uint8Array, 'decoding a Buffer still gives plain Uint8Array fields');
});

t.test('a 32 MiB entry round-trips without copies on decode and without a doubled buffer', async (t) => {
  const data = bigPayload();
  const encoded = encodeEntry({ term: 5, index: 123_456, type: EntryType.Normal, data });
  t.ok(encoded.byteLength > PAGE_BYTES && encoded.byteLength < PAGE_BYTES + 64, 'a few header bytes over the payload');
  t.ok(encoded.buffer.byteLength < PAGE_BYTES + 64 * 1024, 'the output buffer was sized for the record, not doubled');
  const decoded = decodeEntry(encoded);
  t.equal(decoded.data.byteLength, PAGE_BYTES);
  t.ok(isViewInto(decoded.data, encoded), 'the decoded payload is a view into the record');
  t.ok(Buffer.from(decoded.data).equals(Buffer.from(data)), 'every byte is kept');
  const fromBuffer = Buffer.alloc(100 * 1024, 7);
  const decodedFromBuffer = decodeEntry(encodeEntry({ term: 5, index: 9, type: EntryType.Normal, data: fromBuffer }));
  t.ok(fromBuffer.equals(decodedFromBuffer.data), 'a Buffer payload over the presize threshold round-trips');
  const small = encodeEntry({ term: 5, index: 123_457, type: EntryType.Normal, data: bytesOf(1) });
  t.not(small.buffer, encoded.buffer, 'a later small record does not share the large buffer');
  t.ok(small.buffer.byteLength <= 64 * 1024, 'and does not get a large buffer of its own');
});

t.test('HardState and SnapshotMetadata round-trip', async (t) => {
  for (const hs of [{ term: 0, vote: 0, commit: 0 }, { term: 9, vote: 0xffff_ffff, commit: 2 ** 50 }]) {
    t.same(decodeHardState(encodeHardState(hs)), hs);
  }
  const metas = [
    { index: 0, term: 0, confState: { voters: [], learners: [] } },
    { index: 10_001, term: 4, confState: { voters: [1, 2, 3], learners: [7] } },
  ];
  for (const meta of metas) t.same(decodeSnapshotMeta(encodeSnapshotMeta(meta)), meta);
});

t.test('Message round-trips for every type, with entries, snapshot and context', async (t) => {
  for (let type = MessageType.Hup; type <= MessageType.PreVoteResp; type++) {
    const m = message({ type, reject: type % 2 === 0, rejectHint: type * 3 });
    t.same(decodeMessage(encodeMessage(m)), m, `type ${MessageType[type]}`);
  }
  const full = message({
    entries: [
      { term: 3, index: 11, type: EntryType.Normal, data: bytesOf(1, 2, 3) },
      { term: 3, index: 12, type: EntryType.ConfChange, data: new Uint8Array(0) },
    ],
    snapshot: { metadata: { index: 9, term: 2, confState: { voters: [1, 2], learners: [3] } }, data: bytesOf(9, 9) },
    context: bytesOf(0xca, 0xfe),
  });
  const encoded = encodeMessage(full);
  const decoded = decodeMessage(encoded);
  t.same(decoded, full, 'every field kept');
  t.ok(isViewInto(decoded.entries[0].data, encoded), 'entry data is a view');
  t.ok(decoded.snapshot !== undefined && isViewInto(decoded.snapshot.data, encoded), 'snapshot data is a view');
  t.ok(decoded.context !== undefined && isViewInto(decoded.context, encoded), 'context is a view');
  const bare = decodeMessage(encodeMessage(message({})));
  t.notOk('snapshot' in bare || 'context' in bare, 'absent optional fields stay absent');
  t.same(decodeMessage(encodeMessage(message({ context: new Uint8Array(0) }))).context, new Uint8Array(0));
});

t.test('a message carrying a 32 MiB entry and a 0-byte entry round-trips', async (t) => {
  const data = bigPayload();
  const m = message({
    entries: [
      { term: 3, index: 11, type: EntryType.Normal, data },
      { term: 3, index: 12, type: EntryType.Normal, data: new Uint8Array(0) },
    ],
  });
  const encoded = encodeMessage(m);
  t.ok(encoded.buffer.byteLength < PAGE_BYTES + 64 * 1024, 'sized for the record');
  const decoded = decodeMessage(encoded);
  t.ok(Buffer.from(decoded.entries[0].data).equals(Buffer.from(data)), 'the large payload is intact');
  t.equal(decoded.entries[1].data.byteLength, 0);
});

t.test('random messages round-trip', async (t) => {
  const next = prng(3);
  let failures = 0;
  for (let n = 0; n < RANDOM_MESSAGES; n++) {
    const entries: Entry[] = Array.from({ length: next() % 5 }, (_, i) => ({
      term: next() % 100, index: 1000 + i, type: (next() % 2) as EntryType,
      data: Uint8Array.from({ length: next() % 40 }, () => next() & 0xff),
    }));
    const m = message({
      type: (next() % 19) as MessageType, to: next(), from: next() % 7, term: next() * 1024 + (next() % 1024),
      logTerm: next() % 5, index: next(), entries, commit: next() % 1e6, reject: next() % 2 === 1,
      rejectHint: next() % 1e9,
    });
    if (next() % 3 === 0) m.context = Uint8Array.from({ length: next() % 9 }, () => next() & 0xff);
    if (next() % 5 === 0) {
      m.snapshot = { metadata: { index: next(), term: next() % 9, confState: { voters: [next()], learners: [] } }, data: bytesOf(next() & 0xff) };
    }
    if (!isDeepStrictEqual(decodeMessage(encodeMessage(m)), m)) failures++;
  }
  t.equal(failures, 0, `${RANDOM_MESSAGES} random messages come back equal`);
});

t.test('encoders refuse fields a decoder would refuse', async (t) => {
  const good: Entry = { term: 1, index: 1, type: EntryType.Normal, data: bytesOf(1) };
  const bad: [string, () => unknown][] = [
    ['negative term', () => encodeEntry({ ...good, term: -1 })],
    ['fractional index', () => encodeEntry({ ...good, index: 1.5 })],
    ['index past 2^53', () => encodeEntry({ ...good, index: 2 ** 53 })],
    ['unknown entry type', () => encodeEntry({ ...good, type: 2 as EntryType })],
    ['string data', () => encodeEntry({ ...good, data: 'x' as unknown as Uint8Array })],
    ['node id past 32 bits', () => encodeHardState({ term: 1, vote: 2 ** 32, commit: 0 })],
    ['NaN commit', () => encodeHardState({ term: 1, vote: 1, commit: NaN })],
    ['string voter', () => encodeSnapshotMeta({ index: 1, term: 1, confState: { voters: ['1' as never], learners: [] } })],
    ['unknown message type', () => encodeMessage(message({ type: 19 as MessageType }))],
    ['numeric reject', () => encodeMessage(message({ reject: 0 as never }))],
    ['bad entry inside a message', () => encodeMessage(message({ entries: [{ ...good, term: -5 }] }))],
    ['context not bytes', () => encodeMessage(message({ context: [1, 2] as never }))],
  ];
  for (const [name, encode] of bad) t.throws(encode, CodecError, name);
});

t.test('decoders refuse records of another kind and wrong shapes', async (t) => {
  const hs = encodeHardState({ term: 1, vote: 1, commit: 1 });
  const entry = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: bytesOf(1) });
  t.throws(() => decodeEntry(hs), { name: 'CodecError', code: 'KVC_CODEC' }, 'a HardState is not an Entry');
  t.throws(() => decodeHardState(entry), CodecError, 'an Entry is not a HardState');
  t.throws(() => decodeMessage(entry), CodecError, 'an Entry is not a Message');
  t.throws(() => decodeSnapshotMeta(hs), CodecError, 'a HardState is not snapshot metadata');
  t.throws(() => decodeEntry(bytesOf(0x95, 1, 1, 1, 0, 7)), /entry\.data: expected bytes/, 'the path of the bad field is named');
  t.throws(() => decodeEntry(bytesOf(0x96, 1, 1, 1, 0, 0xc4, 0, 0)), /expected an array of 5/, 'an extra field');
});
