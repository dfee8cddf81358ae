// Proves the client's hand-written PutPagesRequest encoder (src/client/put-request.ts) against the
// static protobufjs code it replaced (src/client/protos.ts, what the client sent before): random
// messages — with and without a page's metadata (multi-byte namespaces, keys and parent keys of
// several lengths, every dtype, shapes, ttl and store dtype at varint edges), data from 0 bytes
// to past 1 MiB (lengths at varint edges), as a Uint8Array, a Buffer view or a base64 string, and
// `last` set true, set false or absent — encode to the very same bytes, which the members' decoder
// (proto-loader's, src/rpc/protos.ts) reads back. The encoded buffer is one grpc-js sends without
// copying (framableBuffer: 5 bytes of its own memory in front), and data of 16 KiB or more is not
// copied at all: it is sent by reference behind the copied fields. Real protos, no mocks.
import { createRequire } from 'node:module';
import t from 'tap';
import { clientRpcs, encodePageMeta } from '../../src/client/protos.js';
import { encodePutPagesRequest } from '../../src/client/put-request.js';
import { BY_REFERENCE_BYTES_MIN, FRAME_HEADER_BYTES, installFramedSend, wholeMessage, type PageMeta, type PutPagesRequest, type PutPagesRequest__Output } from '../../src/proto/index.js';
import { loadProtos } from '../../src/rpc/protos.js';
import { prng } from '../codec/prng.js';

const RANDOM_MESSAGES = 200;
const NAMESPACES = ['', 'bench', 'tenant-a/llama:8b', 'hôte-ü/日本', 'x'.repeat(200)];
const KEY_LENGTHS = [0, 8, 16, 32, 64, 127, 128];
const DATA_LENGTHS = [0, 1, 127, 128, 16_383, 16_384, 65_536, 1024 * 1024, 1024 * 1024 + 7];
const NUMBERS = [0, 1, 0x7f, 0x80, 0x3fff, 0x4000, 60_000, 0xffff_ffff, 2 ** 40];
const DTYPES = ['DTYPE_UNSPECIFIED', 'FP16', 'FP32', 'BF16', 'U8'] as const;
const decodeMember = loadProtos().cache.PutPages!.requestDeserialize as (bytes: Buffer) => PutPagesRequest__Output;
const staticCode = clientRpcs().putPages.serialize;
// As KvcClient does: large data is then sent by reference (a split message).
installFramedSend();

function randomMessage(next: () => number): PutPagesRequest {
  const pick = <T>(values: readonly T[]): T => values[next() % values.length]!;
  const bytes = (length: number): Uint8Array => Uint8Array.from({ length }, () => next() & 0xff);
  const message: PutPagesRequest = {};
  if (next() % 2 === 0) {
    const meta: PageMeta = {
      namespace: pick(NAMESPACES),
      key: bytes(pick(KEY_LENGTHS)),
      parentKey: bytes(pick(KEY_LENGTHS)),
      dtype: pick(DTYPES),
      shape: Array.from({ length: next() % 4 }, () => pick(NUMBERS)),
      tokens: pick(NUMBERS),
      bytes: pick(NUMBERS),
      crc32c: next(),
      ttlMs: pick(NUMBERS),
      storeDtype: pick(DTYPES),
    };
    message.meta = meta;
  }
  const kind = next() % 4;
  if (kind !== 3) {
    const data = bytes(pick(DATA_LENGTHS));
    message.data = kind === 0 ? data : kind === 1 ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data).toString('base64');
  }
  const last = next() % 3;
  if (last < 2) message.last = last === 0;
  return message;
}

t.test('random messages encode to the static code bytes and decode to what was sent', async (t) => {
  const next = prng(0x5eed_0011);
  let checked = 0;
  for (let i = 0; i < RANDOM_MESSAGES; i++) {
    const message = randomMessage(next);
    const ours = wholeMessage(encodePutPagesRequest(message, encodePageMeta));
    const theirs = Buffer.from(staticCode(message));
    if (!ours.equals(theirs)) {
      t.fail(`message ${i}: ${ours.byteLength} bytes against the static code's ${theirs.byteLength}`);
      continue;
    }
    const decoded = decodeMember(ours);
    const data = message.data === undefined ? Buffer.alloc(0) : typeof message.data === 'string' ? Buffer.from(message.data, 'base64') : Buffer.from(message.data);
    if (!decoded.data.equals(data) || decoded.last !== (message.last ?? false) || (decoded.meta === null) !== (message.meta === undefined)) {
      t.fail(`message ${i}: the member decoded something else`);
      continue;
    }
    checked++;
  }
  t.equal(checked, RANDOM_MESSAGES, 'every message: the same bytes, decoded back');
});

t.test('an encoded message is sent without a copy', async (t) => {
  t.ok(installFramedSend().installed, 'installed');
  const require = createRequire(import.meta.url);
  const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as {
    CompressionFilter: new (o: object, s: object) => { sendCompression: { writeMessage(m: Buffer, c: boolean): Promise<Buffer> } };
  };
  const encoded = encodePutPagesRequest({ data: new Uint8Array(1000).fill(3), last: true }, encodePageMeta);
  const framed = await new CompressionFilter({}, {}).sendCompression.writeMessage(encoded, false);
  t.equal(framed.buffer, encoded.buffer, 'the frame is the encoded buffer');
  t.equal(framed.byteOffset, encoded.byteOffset - FRAME_HEADER_BYTES, 'with its header in the 5 bytes before');
  t.equal(framed.readUInt32BE(1), encoded.byteLength);

  const data = new Uint8Array(BY_REFERENCE_BYTES_MIN).fill(5);
  const meta = { namespace: 'n', key: Uint8Array.of(1), dtype: 'U8', shape: [data.byteLength], tokens: 1, bytes: data.byteLength, crc32c: 0 } as PageMeta;
  const head = encodePutPagesRequest({ meta, data, last: true }, encodePageMeta);
  const whole = wholeMessage(head);
  t.ok(head.byteLength < 100, `a page of ${data.byteLength} bytes: only the fields before it are copied (${head.byteLength} bytes)`);
  const split = (await new CompressionFilter({}, {}).sendCompression.writeMessage(head, false)) as unknown as { pieces: Uint8Array[]; length: number };
  t.equal(split.pieces[1], data, 'the data itself follows the framed head, not a copy');
  t.equal(split.length, FRAME_HEADER_BYTES + whole.byteLength, 'the frame counts its whole length (as grpc-js buffers it)');
  t.equal(Buffer.from(split.pieces[0]!).readUInt32BE(1), whole.byteLength, 'the header gives the whole message length');
  t.ok(Buffer.concat(split.pieces).subarray(FRAME_HEADER_BYTES).equals(whole), 'the pieces in order are the message');
  t.same(decodeMember(whole).data, Buffer.from(data));
});
