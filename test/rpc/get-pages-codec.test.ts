// Proves the GetPagesResponse serializer of the members (src/rpc/get-pages-codec.ts) against
// proto-loader's own: a chunk with metadata, offset and flag set encodes to the very same bytes;
// chunks with fields at their zero values (which the fast path leaves out), and a shared-memory
// answer, decode to the same message; a chunk as large as LIMITS.page.chunkBytes fits its reused buffer; and each call's
// output is its own message even though the buffer is reused (the caller copies it at once, as
// grpc-js does). Real protos, no mocks.
import t from 'tap';
import { LIMITS } from '../../src/limits.js';
import { getPagesResponseSerializer, type Serializer } from '../../src/rpc/get-pages-codec.js';
import type { GetPagesResponse } from '../../src/proto/index.js';
import { loadProtos } from '../../src/rpc/protos.js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILES, PROTO_LOADER_OPTIONS } from '../../src/proto/index.js';

const generic = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS)['kvcache.v1.CacheService'] as protoLoader.ServiceDefinition;
const encodeGeneric = generic.GetPages!.responseSerialize as Serializer;
const decode = generic.GetPages!.responseDeserialize as (bytes: Buffer) => GetPagesResponse;
const fast = getPagesResponseSerializer(encodeGeneric);

const meta = {
  namespace: 'codec-test',
  key: Buffer.from('0123456789abcdef'),
  parentKey: Buffer.from('fedcba9876543210'),
  dtype: 'FP16',
  shape: [32, 2, 8, 128],
  tokens: 16,
  bytes: 3 * 1024 * 1024,
  crc32c: 0xdeadbeef,
  ttlMs: 60_000,
  createdAtMs: 1_700_000_000_123,
} as unknown as GetPagesResponse['meta'];

function bytesOf(n: number, seed: number): Buffer {
  return Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));
}

t.test('every field set: the same bytes as proto-loader', async (t) => {
  const message: GetPagesResponse = { meta, data: bytesOf(1000, 1), offset: 1_048_576, last: true };
  t.same(Buffer.from(fast(message)), encodeGeneric(message));
});

t.test('zero values left out decode to the same message', async (t) => {
  const cases: GetPagesResponse[] = [
    { meta, data: bytesOf(300, 2), offset: 0, last: false },
    { meta: null, data: bytesOf(70_000, 3), offset: 0, last: false },
    { meta: null, data: bytesOf(5, 4), offset: 300, last: true },
    { meta, data: new Uint8Array(0), offset: 0, last: true },
    { meta, data: new Uint8Array(0), offset: 0, last: true, shared: { region: 1, offset: 4096, length: 65_536, leaseId: 77, expiresInMs: 10_000 } } as GetPagesResponse,
    // Fields left out altogether, as the generated sender type allows.
    { meta },
    {},
  ];
  for (const message of cases) t.same(decode(Buffer.from(fast(message))), decode(encodeGeneric(message)));
});

t.test('chunk fields of a type the member never writes are a bug, not bytes on the wire', async (t) => {
  t.throws(() => fast({ data: 'not bytes', offset: 0, last: true }), /unexpected field types/, 'bytes as a string');
  t.throws(() => fast({ data: bytesOf(5, 7), offset: '300', last: true }), /unexpected field types/, 'an offset as a string');
});

t.test('the largest chunk fits, and each output is read before the next call', async (t) => {
  const big = bytesOf(LIMITS.page.chunkBytes, 5);
  const first = Buffer.from(fast({ meta, data: big, offset: 0, last: false }));
  const second = Buffer.from(fast({ meta: null, data: bytesOf(10, 6), offset: LIMITS.page.chunkBytes, last: true }));
  t.same(decode(first).data, big);
  t.same(decode(second).data, bytesOf(10, 6));
  t.equal(decode(second).offset, LIMITS.page.chunkBytes);
});

t.test('the members serve GetPages with it', async (t) => {
  t.not(loadProtos().cache.GetPages!.responseSerialize, encodeGeneric);
});
