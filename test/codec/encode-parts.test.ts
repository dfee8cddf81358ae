// Proves that encodeMessageParts and encodeEntryParts (src/codec/encode-parts.ts) yield
// encodeMessage's and encodeEntry's bytes exactly (the peer wire format and the WAL's entry
// records are unchanged) while leaving large entries' data uncopied: random messages and entries
// whose fields sit on every boundary of msgpack's integer, array and bin forms are encoded both
// ways and compared byte for byte, and decoded back; the parts that are payloads are the entries'
// own buffers; messages without a large entry, or with a snapshot, and small entries are the
// plain encoder's one buffer; bad fields are refused with a CodecError as the plain encoders
// refuse them.

import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import {
  CodecError,
  ENTRY_BY_REFERENCE_BYTES_MIN,
  decodeEntry,
  decodeMessage,
  encodeEntry,
  encodeEntryParts,
  encodeMessage,
  encodeMessageParts,
  type EncodedParts,
} from '../../src/codec/index.js';
import { EntryType, MessageType, type Entry, type Message } from '../../src/raft/index.js';
import { prng } from './prng.js';

const RANDOM_MESSAGES = 150;
/** Values on each edge of msgpack's integer forms as msgpackr picks them (fixint, uint8/16/32, float64). */
const UINT_EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 2 ** 31 - 1, 2 ** 31, 0xffff_ffff, 2 ** 32, 2 ** 40 + 1, Number.MAX_SAFE_INTEGER];
const NODE_ID_EDGES = UINT_EDGES.filter((v) => v <= 0xffff_ffff);
/** Payload sizes on the edges of the bin forms and of the by-reference threshold. */
const DATA_BYTES_EDGES = [0, 1, 0xff, 0x100, ENTRY_BY_REFERENCE_BYTES_MIN - 1, ENTRY_BY_REFERENCE_BYTES_MIN, 0xffff, 0x10000, 0x10001];

function concat(parts: EncodedParts): Uint8Array {
  const out = new Uint8Array(parts.byteLength);
  let at = 0;
  for (const part of parts.parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  if (at !== parts.byteLength) throw new Error(`parts hold ${at} bytes, byteLength says ${parts.byteLength}`);
  return out;
}

function message(overrides: Partial<Message>): Message {
  return { type: MessageType.App, to: 2, from: 1, term: 3, logTerm: 2, index: 10, entries: [], commit: 9, reject: false, rejectHint: 0, ...overrides };
}

function randomMessage(next: () => number): Message {
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  const filled = (length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (i * 31 + length) & 0xff);
  // Up to 20 entries (past 15 the entries array takes a 16-bit header); at least one large.
  const count = 1 + (next() % 20);
  const entries: Entry[] = Array.from({ length: count }, () => ({
    term: pick(UINT_EDGES),
    index: pick(UINT_EDGES),
    type: (next() % 2) as EntryType,
    data: filled(next() % 4 === 0 ? pick(DATA_BYTES_EDGES) : next() % 300),
  }));
  entries[next() % count]!.data = filled(ENTRY_BY_REFERENCE_BYTES_MIN + (next() % (2 * ENTRY_BY_REFERENCE_BYTES_MIN)));
  const m = message({
    type: (next() % 19) as MessageType,
    to: pick(NODE_ID_EDGES),
    from: pick(NODE_ID_EDGES),
    term: pick(UINT_EDGES),
    logTerm: pick(UINT_EDGES),
    index: pick(UINT_EDGES),
    entries,
    commit: pick(UINT_EDGES),
    reject: next() % 2 === 1,
    rejectHint: pick(UINT_EDGES),
  });
  if (next() % 3 === 0) m.context = filled(pick([0, 5, 0xff, 0x100]));
  return m;
}

t.test('random messages with a large entry: the parts are encodeMessage bytes, and decode back', async (t) => {
  const next = prng(11);
  let differing = 0;
  let notRoundTripped = 0;
  for (let n = 0; n < RANDOM_MESSAGES; n++) {
    const m = randomMessage(next);
    const parts = encodeMessageParts(m);
    const bytes = concat(parts);
    if (Buffer.compare(bytes, encodeMessage(m)) !== 0) differing++;
    if (!isDeepStrictEqual(decodeMessage(bytes), m)) notRoundTripped++;
  }
  t.equal(differing, 0, `${RANDOM_MESSAGES} random messages encode to the same bytes both ways`);
  t.equal(notRoundTripped, 0, 'and decode to the message');
});

t.test('large entries are parts of their own, their very buffers; small ones are copied inline', async (t) => {
  const large = new Uint8Array(0x10001).fill(7);
  const atThreshold = new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN).fill(8);
  const small = new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN - 1).fill(9);
  const entries: Entry[] = [
    { term: 1, index: 5, type: EntryType.Normal, data: large },
    { term: 1, index: 6, type: EntryType.Normal, data: small },
    { term: 1, index: 7, type: EntryType.Normal, data: atThreshold },
  ];
  const m = message({ entries, context: Uint8Array.of(1, 2) });
  const { parts, byteLength } = encodeMessageParts(m);
  t.ok(parts.includes(large) && parts.includes(atThreshold), 'the large payloads are the entries own buffers');
  t.notOk(parts.includes(small), 'the small payload is not a part');
  t.equal(parts.length, 5, 'header run, large, run with the small entry, at-threshold, tail');
  t.equal(byteLength, encodeMessage(m).byteLength);
  t.same(concat({ parts, byteLength }), encodeMessage(m));
});

t.test('an entries array past 2^16 takes the 32-bit header', async (t) => {
  const entries: Entry[] = Array.from({ length: 0x10000 }, (_, i) => ({ term: 2, index: 100 + i, type: EntryType.Normal, data: new Uint8Array(0) }));
  entries.push({ term: 2, index: 100 + 0x10000, type: EntryType.Normal, data: new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN) });
  const m = message({ entries });
  const parts = encodeMessageParts(m);
  t.equal(parts.parts.length, 3, 'every header in one run, the payload, the message tail');
  t.equal(Buffer.compare(concat(parts), encodeMessage(m)), 0);
});

t.test('without a large entry, or with a snapshot, the message is encodeMessage one buffer', async (t) => {
  const small = message({ entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(100) }] });
  const heartbeat = message({ type: MessageType.Heartbeat, context: Uint8Array.of(3) });
  const snapshot = message({
    type: MessageType.Snap,
    entries: [{ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN) }],
    snapshot: { metadata: { index: 9, term: 1, confState: { voters: [1, 2], learners: [] } }, data: Uint8Array.of(4) },
  });
  for (const [name, m] of [['small append', small], ['heartbeat', heartbeat], ['snapshot', snapshot]] as const) {
    const parts = encodeMessageParts(m);
    t.equal(parts.parts.length, 1, `${name}: one part`);
    t.same(parts.parts[0], encodeMessage(m), `${name}: encodeMessage bytes`);
  }
});

t.test('bad fields are refused with a CodecError, as encodeMessage refuses them', async (t) => {
  const large: Entry = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN) };
  const bad: [string, Partial<Message>][] = [
    ['negative term', { term: -1 }],
    ['unknown message type', { type: 19 as MessageType }],
    ['node id past 32 bits', { to: 2 ** 32 }],
    ['numeric reject', { reject: 0 as never }],
    ['bad entry beside a large one', { entries: [large, { ...large, index: 1.5 }] }],
    ['unknown entry type', { entries: [{ ...large, type: 2 as EntryType }] }],
    ['small string data beside a large entry', { entries: [large, { ...large, data: 'x' as never }] }],
    ['context not bytes', { entries: [large], context: [1, 2] as never }],
    ['entries not an array', { entries: 'x' as never }],
  ];
  for (const [name, overrides] of bad) t.throws(() => encodeMessageParts(message({ entries: [large], ...overrides })), CodecError, name);
});

t.test('entries: the parts are encodeEntry bytes on every edge, a large payload by reference', async (t) => {
  const next = prng(5);
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  let differing = 0;
  let notRoundTripped = 0;
  let misplaced = 0;
  const randomEntries = 60;
  for (let n = 0; n < randomEntries; n++) {
    const data = Uint8Array.from({ length: pick(DATA_BYTES_EDGES) }, (_, i) => (i * 13 + n) & 0xff);
    const e: Entry = { term: pick(UINT_EDGES), index: pick(UINT_EDGES), type: (next() % 2) as EntryType, data };
    const parts = encodeEntryParts(e);
    const bytes = concat(parts);
    if (Buffer.compare(bytes, encodeEntry(e)) !== 0) differing++;
    if (!isDeepStrictEqual(decodeEntry(bytes), e)) notRoundTripped++;
    const large = data.byteLength >= ENTRY_BY_REFERENCE_BYTES_MIN;
    const asExpected = large ? parts.parts.length === 2 && parts.parts[1] === data : parts.parts.length === 1;
    if (!asExpected) misplaced++;
  }
  t.equal(differing, 0, `${randomEntries} random entries encode to the same bytes both ways`);
  t.equal(notRoundTripped, 0, 'and decode to the entry');
  t.equal(misplaced, 0, 'a large payload is a part of its own (the entry buffer), a small entry one buffer');
  const large: Entry = { term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(ENTRY_BY_REFERENCE_BYTES_MIN) };
  t.throws(() => encodeEntryParts({ ...large, term: -1 }), CodecError, 'a bad term');
  t.throws(() => encodeEntryParts({ ...large, type: 2 as EntryType }), CodecError, 'an unknown type');
  t.throws(() => encodeEntryParts({ ...large, data: 'x' as never }), CodecError, 'data not bytes');
});
