// Proves that the decoders (src/codec) survive hostile bytes: every decoder is fed every
// truncation of valid records, thousands of randomly mutated valid records, thousands of random
// byte strings, and hand-made hostile msgpack (deep nesting, lying length headers, maps, record
// definitions, msgpackr's typed-array/date/regexp/error/bundle extensions, trailing bytes after a
// 32 MiB payload) plus non-byte inputs. The only failure allowed out is a CodecError (never a
// TypeError, RangeError or raw msgpackr error); whatever decodes must be an object; trailing bytes
// are refused quickly; and the shared decoder state is intact afterwards (valid records, including
// small integers that msgpackr could mistake for record references, still decode exactly).

import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import {
  CodecError,
  decodeCommand,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshotMeta,
  encodeCommand,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshotMeta,
} from '../../src/codec/index.js';
import { EntryType, MessageType } from '../../src/raft/index.js';
import { prng } from './prng.js';

const MUTATIONS_PER_SEED = 400;
const RANDOM_INPUTS = 3000;
const RANDOM_INPUT_BYTES_MAX = 48;
const NESTING_DEPTH = 200_000;
const TRAILING_BYTES_DECODE_MS_MAX = 2000;

type Decoder = (bytes: Uint8Array) => unknown;

const DECODERS: [string, Decoder][] = [
  ['decodeEntry', decodeEntry],
  ['decodeHardState', decodeHardState],
  ['decodeSnapshotMeta', decodeSnapshotMeta],
  ['decodeMessage', decodeMessage],
  ['decodeCommand', decodeCommand],
];

const key = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const SEEDS: Uint8Array[] = [
  encodeEntry({ term: 3, index: 100, type: EntryType.ConfChange, data: Uint8Array.of(1, 2, 3) }),
  encodeHardState({ term: 3, vote: 2, commit: 99 }),
  encodeSnapshotMeta({ index: 90, term: 2, confState: { voters: [1, 2, 3], learners: [4] } }),
  encodeMessage({
    type: MessageType.App, to: 2, from: 1, term: 3, logTerm: 2, index: 99, commit: 98, reject: false, rejectHint: 0,
    entries: [{ term: 3, index: 100, type: EntryType.Normal, data: Uint8Array.of(9, 9) }],
    snapshot: { metadata: { index: 90, term: 2, confState: { voters: [1], learners: [] } }, data: Uint8Array.of(7) },
    context: Uint8Array.of(1),
  }),
  encodeCommand({
    op: 'put',
    pages: [{
      meta: { ns: 'ns', key, parentKey: key, dtype: 'fp16', shape: [2, 2], tokens: 1, bytes: 8, crc32c: 1, createdAtMs: 5, ttlMs: 9 },
      data: new Uint8Array(8),
    }],
  }),
  encodeCommand({ op: 'pin', ns: 'ns', keys: [key], ttlMs: 1, nowMs: 2 }),
];

/** Runs `decode` and returns a description of a forbidden outcome, or undefined if it was fine. */
function misbehaviour(decode: Decoder, input: unknown): string | undefined {
  try {
    const value = decode(input as Uint8Array);
    return typeof value === 'object' && value !== null ? undefined : `returned ${typeof value}`;
  } catch (error) {
    if (error instanceof CodecError && error.code === 'KVC_CODEC') return undefined;
    return `threw ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
  }
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.subarray(0, 40)).toString('hex');
}

/** Feeds every decoder every input; returns the first few forbidden outcomes. */
function feed(inputs: Uint8Array[]): string[] {
  const problems: string[] = [];
  for (const input of inputs) {
    for (const [name, decode] of DECODERS) {
      const problem = misbehaviour(decode, input);
      if (problem !== undefined && problems.length < 5) problems.push(`${name}(${hex(input)}): ${problem}`);
    }
  }
  return problems;
}

/** A byte biased towards msgpack type markers, small ints, lengths and 0xff. */
function interestingByte(next: () => number): number {
  const markers = [0x00, 0x01, 0x05, 0x7f, 0x80, 0x90, 0x95, 0x9f, 0xa1, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
    0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcf, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff];
  return next() % 2 === 0 ? markers[next() % markers.length] : next() & 0xff;
}

t.test('every truncation of every valid record', async (t) => {
  const inputs: Uint8Array[] = [];
  for (const seed of SEEDS) for (let length = 0; length < seed.length; length++) inputs.push(seed.subarray(0, length));
  t.same(feed(inputs), [], `${inputs.length} prefixes × ${DECODERS.length} decoders: only CodecError`);
});

t.test('randomly mutated valid records', async (t) => {
  const next = prng(7);
  const inputs: Uint8Array[] = [];
  for (const seed of SEEDS) {
    for (let n = 0; n < MUTATIONS_PER_SEED; n++) {
      const mutated = Uint8Array.from(seed);
      const edits = 1 + (next() % 3);
      for (let e = 0; e < edits; e++) mutated[next() % mutated.length] = interestingByte(next);
      inputs.push(next() % 4 === 0 ? mutated.subarray(0, next() % mutated.length) : mutated);
    }
  }
  t.same(feed(inputs), [], `${inputs.length} mutants × ${DECODERS.length} decoders: only CodecError`);
});

t.test('random byte strings', async (t) => {
  const next = prng(11);
  const inputs: Uint8Array[] = [];
  for (let n = 0; n < RANDOM_INPUTS; n++) {
    inputs.push(Uint8Array.from({ length: next() % RANDOM_INPUT_BYTES_MAX }, () => interestingByte(next)));
  }
  t.same(feed(inputs), [], `${RANDOM_INPUTS} strings × ${DECODERS.length} decoders: only CodecError`);
});

t.test('hand-made hostile msgpack', async (t) => {
  const deep = new Uint8Array(NESTING_DEPTH + 1).fill(0x91);
  deep[NESTING_DEPTH] = 0x01;
  const hostile: [string, number[] | Uint8Array][] = [
    ['empty', []],
    ['a reserved byte 0xc1', [0xc1]],
    [`${NESTING_DEPTH} nested arrays (stack overflow)`, deep],
    ['array32 claiming 4 billion elements', [0xdd, 0xff, 0xff, 0xff, 0xff, 0x01]],
    ['map32 claiming 4 billion entries', [0xdf, 0xff, 0xff, 0xff, 0xff, 0x01, 0x01]],
    ['bin32 claiming 4 GiB', [0x95, 1, 1, 1, 0, 0xc6, 0xff, 0xff, 0xff, 0xff, 0]],
    ['str32 claiming 4 GiB', [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]],
    ['a map where a record belongs', [0x81, 0xa1, 0x61, 0x01]],
    ['a map with a __proto__ key', [0x81, 0xa9, ...Buffer.from('__proto__'), 0x80]],
    ['a record definition (msgpackr extension 0x72)', [0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x05]],
    ['a record reference with no definition', [0x40]],
    ['a typed array extension (Float64Array)', [0xc7, 0x09, 0x74, 0x08, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]],
    ['a typed array extension with an unknown code', [0xd5, 0x74, 0x63, 0x00]],
    ['a typed-array extension as entry data', [0x95, 1, 1, 1, 0, 0xd5, 0x74, 0x01, 0x05]],
    ['a timestamp extension', [0xd6, 0xff, 0, 0, 0, 1]],
    ['a regexp extension', [0xd4, 0x78, 0x00, 0x92, 0xa2, 0x28, 0x61, 0xa1, 0x67]],
    ['a regexp extension with an invalid pattern', [0xd4, 0x78, 0x00, 0x92, 0xa1, 0x28, 0xa0]],
    ['an error extension', [0xd4, 0x65, 0x00, 0x93, 0xa5, ...Buffer.from('Error'), 0xa1, 0x78, 0xc0]],
    ['a structured-clone pointer', [0xd6, 0x70, 0, 0, 0, 0]],
    ['a structured-clone id', [0xd6, 0x69, 0, 0, 0, 0]],
    ['a bundled-strings extension jumping backwards', [0xd6, 0x62, 0, 0, 0, 0, 0x91, 0x01]],
    ['a bundled-strings extension jumping far ahead', [0xd6, 0x62, 0x7f, 0xff, 0xff, 0xff, 0x91, 0x01]],
    ['a bigint extension', [0xd5, 0x42, 0x01, 0x02]],
    ['unknown extension', [0xd4, 0x13, 0x00]],
    ['uint64 max as a term', [0x95, 1, 0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 1, 0, 0xc4, 0]],
    ['int64 min as a term', [0x95, 1, 0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xc4, 0]],
    ['float NaN as an index', [0x95, 1, 1, 0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 0, 0, 0xc4, 0]],
    ['float 2^53 as an index', [0x95, 1, 1, 0xcb, 0x43, 0x40, 0, 0, 0, 0, 0, 0, 0, 0xc4, 0]],
  ];
  const problems: string[] = [];
  for (const [name, bytes] of hostile) {
    for (const [decoderName, decode] of DECODERS) {
      const problem = misbehaviour(decode, bytes instanceof Uint8Array ? bytes : Uint8Array.from(bytes));
      if (problem !== undefined) problems.push(`${decoderName} on ${name}: ${problem}`);
    }
  }
  t.same(problems, [], `${hostile.length} hostile inputs × ${DECODERS.length} decoders: only CodecError`);
});

t.test('inputs that are not bytes', async (t) => {
  const inputs: unknown[] = [undefined, null, 0, 'abc', [0x91, 1], {}, new ArrayBuffer(4), new DataView(new ArrayBuffer(4)),
    new Uint16Array(4), new Uint8ClampedArray(4), { buffer: new ArrayBuffer(4), byteOffset: 0, byteLength: 4 }];
  const problems: string[] = [];
  for (const input of inputs) {
    for (const [name, decode] of DECODERS) {
      const problem = misbehaviour(decode, input);
      if (problem !== undefined) problems.push(`${name}(${Object.prototype.toString.call(input)}): ${problem}`);
    }
  }
  t.same(problems, [], 'each is refused with a CodecError');
});

t.test('trailing bytes after a 32 MiB payload are refused quickly', async (t) => {
  const record = encodeEntry({ term: 1, index: 1, type: EntryType.Normal, data: new Uint8Array(32 * 1024 * 1024) });
  const withTrailer = new Uint8Array(record.byteLength + 1);
  withTrailer.set(record);
  const started = performance.now();
  t.throws(() => decodeEntry(withTrailer), /1 trailing bytes/);
  // msgpackr's own `unpack` JSON-stringifies the decoded value to report this (tens of seconds here).
  t.ok(performance.now() - started < TRAILING_BYTES_DECODE_MS_MAX, 'refused without stringifying the payload');
});

t.test('a float64 -0 is read as +0', async (t) => {
  const entry = decodeEntry(Uint8Array.of(0x95, 1, 0xcb, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0xc4, 0));
  t.ok(Object.is(entry.term, 0), 'term is +0');
});

t.test('the decoder state is intact after all of the above', async (t) => {
  // A hostile record definition followed by a value in the fixint range 0x40..0x7f that a leaked
  // definition would turn into a record.
  t.throws(() => decodeHardState(Uint8Array.of(0x92, 0xd4, 0x72, 0x40, 0x91, 0xa1, 0x61, 0x05)), CodecError);
  const hs = { term: 100, vote: 64, commit: 127 };
  t.same(decodeHardState(encodeHardState(hs)), hs, 'values 64..127 decode as numbers');
  const [entry, hardState, meta, message, put, pin] = SEEDS;
  t.same(decodeEntry(entry).data, Uint8Array.of(1, 2, 3), 'an entry still decodes');
  t.same(decodeHardState(hardState), { term: 3, vote: 2, commit: 99 }, 'a hard state still decodes');
  t.same(decodeSnapshotMeta(meta).confState, { voters: [1, 2, 3], learners: [4] }, 'snapshot metadata still decodes');
  t.ok(isDeepStrictEqual(decodeMessage(message).entries[0].data, Uint8Array.of(9, 9)), 'a message still decodes');
  t.equal(decodeCommand(put).op, 'put', 'a put still decodes');
  t.same(decodeCommand(pin), { op: 'pin', ns: 'ns', keys: [key], ttlMs: 1, nowMs: 2 }, 'a pin still decodes');
});
