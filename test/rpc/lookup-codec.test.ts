// Proves the members' hand-written Lookup codec (src/rpc/lookup-codec.ts) against proto-loader's own
// (protobufjs, what every member used before): random requests, encoded by proto-loader, decode to
// the very same object through the fast path (no fallback); requests with what only proto-loader
// reads (an unknown field, a fixed-width or group field, a 10-byte lease, a bool of 2) decode to
// proto-loader's object through the fallback; every truncation of a request either decodes equal or
// throws as proto-loader does (a member answers it KVC_MALFORMED_REQUEST, test/rpc/fuzz.test.ts);
// random responses encode to the very same bytes. Real protos, no mocks.
import { isDeepStrictEqual } from 'node:util';
import t from 'tap';
import type { LookupRequest, LookupRequest__Output, LookupResponse } from '../../src/proto/index.js';
import { lookupRequestDeserializer, lookupResponseSerializer } from '../../src/rpc/lookup-codec.js';
import { loadProtos } from '../../src/rpc/protos.js';
import { prng } from '../codec/prng.js';

const RANDOM_MESSAGES = 300;
const method = loadProtos().cache.Lookup!;
// loadProtos installs the fast codec; proto-loader's own is what it wraps, loaded here afresh.
const generic = await import('@grpc/proto-loader').then(async (loader) => {
  const { PROTO_FILES, PROTO_LOADER_OPTIONS } = await import('../../src/rpc/protos.js');
  const definition = loader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS) as unknown as Record<string, Record<string, typeof method>>;
  return definition['kvcache.v1.CacheService']!.Lookup!;
});
const encodeRequest = generic.requestSerialize as (request: LookupRequest) => Buffer;
const decodeGeneric = generic.requestDeserialize as (bytes: Buffer) => LookupRequest__Output;
const encodeGeneric = generic.responseSerialize as (response: LookupResponse) => Buffer;
/** Edges of protobuf varints (1 to 7 bytes) and of the uint32 and safe-integer ranges. */
const VARINT_EDGES = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 0x1f_ffff, 0x20_0000, 0xfff_ffff, 0x1000_0000, 0xffff_ffff, 2 ** 35, 2 ** 42 - 1, 2 ** 48];
const UINT32_EDGES = VARINT_EDGES.filter((value) => value <= 0xffff_ffff);
const NAMESPACES = ['', 'tenant-a/llama:8b', 'hôte-ü', 'x'.repeat(200)];

/** A decoder that counts how often it fell back to proto-loader's. */
function countingDecoder(): { decode: (bytes: Buffer) => LookupRequest__Output; fallbacks: () => number } {
  let fallbacks = 0;
  const decode = lookupRequestDeserializer((bytes) => {
    fallbacks++;
    return decodeGeneric(bytes);
  });
  return { decode, fallbacks: () => fallbacks };
}

function randomKeys(next: () => number): Uint8Array[] {
  return Array.from({ length: next() % 20 }, () => Uint8Array.from({ length: [0, 1, 16, 32, 200][next() % 5]! }, () => next() & 0xff));
}

function randomRequest(next: () => number): LookupRequest {
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  const request: LookupRequest = {};
  if (next() % 4 !== 0) request.namespace = pick(NAMESPACES);
  if (next() % 4 !== 0) request.keys = randomKeys(next);
  if (next() % 3 === 0) request.linearizable = next() % 2 === 0;
  if (next() % 3 === 0) request.leaseMs = pick(VARINT_EDGES);
  if (next() % 2 === 0) request.morePrompts = Array.from({ length: next() % 6 }, () => (next() % 4 === 0 ? {} : { keys: randomKeys(next) }));
  return request;
}

t.test('random requests: the fast path decodes them to proto-loader\'s object', async (t) => {
  const next = prng(12);
  const { decode, fallbacks } = countingDecoder();
  let differing = 0;
  for (let i = 0; i < RANDOM_MESSAGES; i++) {
    const bytes = encodeRequest(randomRequest(next));
    if (!isDeepStrictEqual(decode(bytes), decodeGeneric(bytes))) differing++;
  }
  t.equal(differing, 0, `${RANDOM_MESSAGES} requests decode alike`);
  t.equal(fallbacks(), 0, 'none of them needed proto-loader');
  const batch = decode(encodeRequest({ namespace: 'n', keys: [Buffer.from('abcd')], morePrompts: [{ keys: [Buffer.from('efgh')] }] }));
  t.ok(Buffer.isBuffer(batch.keys[0]) && Buffer.isBuffer(batch.morePrompts[0]!.keys[0]), 'keys are Buffers, as protobufjs gives them');
});

t.test('what only proto-loader reads goes to it, whole', async (t) => {
  const { decode, fallbacks } = countingDecoder();
  const base = encodeRequest({ namespace: 'n', keys: [Buffer.from('abcd')], leaseMs: 5 });
  const cases: [string, Buffer][] = [
    ['an unknown varint field', Buffer.concat([base, Buffer.from([(9 << 3) | 0, 7])])],
    ['an unknown fixed64 field', Buffer.concat([base, Buffer.from([(10 << 3) | 1, 1, 2, 3, 4, 5, 6, 7, 8])])],
    ['an unknown fixed32 field', Buffer.concat([base, Buffer.from([(11 << 3) | 5, 1, 2, 3, 4])])],
    ['an empty group', Buffer.concat([base, Buffer.from([(12 << 3) | 3, (12 << 3) | 4])])],
    ['a 10-byte lease_ms', Buffer.concat([base, Buffer.from([(4 << 3) | 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])])],
    ['linearizable written as 2', Buffer.concat([base, Buffer.from([(3 << 3) | 0, 2])])],
    ['a prompt with an unknown field', Buffer.concat([base, Buffer.from([(5 << 3) | 2, 2, (2 << 3) | 0, 1])])],
  ];
  for (const [what, bytes] of cases) t.strictSame(decode(bytes), decodeGeneric(bytes), what);
  t.equal(fallbacks(), cases.length, 'each through proto-loader');
});

t.test('every truncation decodes alike or fails as proto-loader fails', async (t) => {
  const next = prng(5);
  const { decode } = countingDecoder();
  const outcome = (f: () => LookupRequest__Output): unknown => {
    try {
      return f();
    } catch (error) {
      return { threw: (error as Error).constructor.name };
    }
  };
  let differing = 0;
  let cuts = 0;
  for (let i = 0; i < 20; i++) {
    const bytes = encodeRequest(randomRequest(next));
    for (let end = 0; end < bytes.byteLength; end++, cuts++) {
      const cut = bytes.subarray(0, end);
      if (!isDeepStrictEqual(outcome(() => decode(cut)), outcome(() => decodeGeneric(cut)))) differing++;
    }
  }
  t.equal(differing, 0, `${cuts} truncated requests`);
});

t.test('random responses: the very bytes proto-loader writes', async (t) => {
  const next = prng(3);
  const serialize = lookupResponseSerializer(encodeGeneric);
  const pick = <T>(values: T[]): T => values[next() % values.length]!;
  let differing = 0;
  for (let i = 0; i < RANDOM_MESSAGES; i++) {
    const response: LookupResponse = {};
    if (next() % 4 !== 0) response.matched = pick(UINT32_EDGES);
    if (next() % 4 !== 0) response.appliedIndex = pick([...VARINT_EDGES, Number.MAX_SAFE_INTEGER]);
    if (next() % 2 === 0) response.moreMatched = Array.from({ length: next() % 40 }, () => pick(UINT32_EDGES));
    if (!serialize(response).equals(encodeGeneric(response))) differing++;
  }
  t.equal(differing, 0, `${RANDOM_MESSAGES} responses encode alike`);
  for (const odd of [{ matched: 0, appliedIndex: 0 }, { appliedIndex: '12345678901234567890' }, { matched: -1 }, { moreMatched: [1.5] }, { appliedIndex: 2 ** 60 }] as LookupResponse[]) {
    t.ok(serialize(odd).equals(encodeGeneric(odd)), `${JSON.stringify(odd)}: through proto-loader, alike`);
  }
});

t.test('a member serves Lookup with this codec', async (t) => {
  t.not(method.requestDeserialize, generic.requestDeserialize, 'the request deserializer is the fast one');
  const bytes = encodeRequest({ namespace: 'n', keys: [Buffer.from('abcd')], morePrompts: [{ keys: [] }] });
  t.strictSame(method.requestDeserialize(bytes), decodeGeneric(bytes), 'and reads what proto-loader reads');
  t.ok((method.responseSerialize({ matched: 3, moreMatched: [0, 2] }) as Buffer).equals(encodeGeneric({ matched: 3, moreMatched: [0, 2] })), 'and writes what it writes');
});
