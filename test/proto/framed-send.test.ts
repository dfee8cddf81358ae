// Proves src/proto/framed-send.ts. Once installFramedSend() ran, grpc-js's identity handler frames a
// framableBuffer in place: the frame it returns is the buffer's own memory from 5 bytes before it,
// with the flag and the length written there, and any other buffer is still copied into a frame of
// its own (when the first half fails, grpc-js has changed how it frames, and the module must follow
// or go). Messages of both kinds, from 0 bytes to 3 MiB, cross a real grpc-js client stream on
// loopback intact and in order. Split messages (FramableWriter: small fields copied, runs of 16 KiB
// or more by reference) cross it intact too, on a plain channel and on one that compresses (gzip
// joins them first). A leader's Raft batches (split since raft-batch-codec.ts writes through a
// FramableWriter) carry a 3 MiB page to two real followers, which serve the same bytes.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { BY_REFERENCE_BYTES_MIN, FRAME_HEADER_BYTES, FramableWriter, framableBuffer, installFramedSend, wholeMessage } from '../../src/proto/index.js';
import { startCluster } from '../rpc/helpers.js';
import { uploadServer } from './upload-server.js';

type Handler = { writeMessage(message: Buffer, compress: boolean): Promise<Buffer> };

function identityHandler(): Handler {
  const require = createRequire(import.meta.url);
  const { CompressionFilter } = require('@grpc/grpc-js/build/src/compression-filter.js') as { CompressionFilter: new (o: object, s: object) => { sendCompression: Handler } };
  return new CompressionFilter({}, {}).sendCompression;
}

t.test('a framable buffer is framed in its own memory; any other buffer is copied', async (t) => {
  t.same(installFramedSend(), { installed: true, reason: '' }, 'this grpc-js has the handler it patches');
  t.same(installFramedSend(), { installed: true, reason: '' }, 'a second call changes nothing (the handler is not wrapped twice)');
  const handler = identityHandler();
  const body = framableBuffer(1000);
  body.fill(7);
  const framed = await handler.writeMessage(body, false);
  t.equal(framed.buffer, body.buffer, 'the same memory');
  t.equal(framed.byteOffset, body.byteOffset - FRAME_HEADER_BYTES, 'starting 5 bytes earlier');
  t.equal(framed.byteLength, body.byteLength + FRAME_HEADER_BYTES);
  t.equal(framed[0], 0, 'not compressed');
  t.equal(framed.readUInt32BE(1), 1000, 'the length');
  t.ok(framed.subarray(FRAME_HEADER_BYTES).equals(body), 'the message behind the header');

  const plain = Buffer.alloc(1000, 7);
  const copied = await handler.writeMessage(plain, false);
  t.not(copied.buffer, plain.buffer, 'a plain buffer is copied, as grpc-js does');
  t.equal(copied.readUInt32BE(1), 1000);
  t.ok(copied.subarray(FRAME_HEADER_BYTES).equals(plain));

  const empty = framableBuffer(0);
  const framedEmpty = await handler.writeMessage(empty, false);
  t.equal(framedEmpty.byteLength, FRAME_HEADER_BYTES, 'an empty message is a bare header');
  t.equal(framedEmpty.readUInt32BE(1), 0);
});

function digest(m: Uint8Array): string {
  return `${m.byteLength}:${createHash('sha256').update(m).digest('hex')}`;
}

t.test('framed and copied messages cross a real client stream intact and in order', async (t) => {
  installFramedSend();
  const upload = await uploadServer(t, digest);
  const sizes: [number, boolean][] = [[0, true], [1, true], [100, false], [1024 * 1024, true], [3 * 1024 * 1024 + 3, true], [2 * 1024 * 1024, false], [4095, true]];
  const messages = sizes.map(([bytes, framable]) => {
    const data = framable ? framableBuffer(bytes) : Buffer.allocUnsafe(bytes);
    randomBytes(bytes).copy(data);
    return data;
  });
  const expected = messages.map(digest).join(',');
  t.equal(await upload(messages), expected, 'every message arrived whole, in order');
});

/**
 * Messages written through a FramableWriter: each a list of fields, a number (copied as a
 * varint) or a run of bytes (by reference from BY_REFERENCE_BYTES_MIN on): runs first, last,
 * back to back, at the threshold and one byte under it.
 */
function splitMessages(): { messages: Buffer[]; expected: string } {
  const run = (bytes: number): Uint8Array => new Uint8Array(randomBytes(bytes));
  const layouts: (number | Uint8Array)[][] = [
    [run(BY_REFERENCE_BYTES_MIN)],
    [7, run(BY_REFERENCE_BYTES_MIN - 1), 300],
    [run(1024 * 1024), 1, run(3)],
    [150, run(2 * 1024 * 1024 + 1), run(BY_REFERENCE_BYTES_MIN), 2 ** 31, run(70_000)],
    [0],
    [run(0), run(65_537), run(0)],
  ];
  const messages: Buffer[] = [];
  const wholes: Buffer[] = [];
  for (const fields of layouts) {
    let size = 0;
    let byReference = 0;
    for (const f of fields) {
      if (typeof f === 'number') size += varintLength(f);
      else {
        size += f.byteLength;
        if (FramableWriter.byReference(f.byteLength)) byReference += f.byteLength;
      }
    }
    const out = new FramableWriter(size, byReference);
    for (const f of fields) {
      if (typeof f === 'number') out.varint(f);
      else out.bytes(f);
    }
    const message = out.finish();
    messages.push(message);
    wholes.push(wholeMessage(message));
  }
  return { messages, expected: wholes.map(digest).join(',') };
}

function varintLength(value: number): number {
  let bytes = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    bytes++;
  }
  return bytes;
}

t.test('split messages cross a real client stream whole, in order, also where grpc-js compresses', async (t) => {
  t.ok(installFramedSend().installed);
  const { messages, expected } = splitMessages();
  t.ok(messages[2]!.byteLength < 100, 'a 1 MiB run is not copied into the message buffer');
  const plain = await uploadServer(t, digest);
  t.equal(await plain([...messages, framableBuffer(3).fill(1), ...messages]), [expected, digest(Buffer.alloc(3, 1)), expected].join(','), 'plain channel: every message arrived whole, in order');
  const gzip = await uploadServer(t, digest, { 'grpc.default_compression_algorithm': 2 });
  t.equal(await gzip(messages), expected, 'gzip channel: joined, compressed, arrived whole');
  t.throws(() => new FramableWriter(5).finish(), { code: 'ERR_ASSERTION' }, 'a message shorter than its size is a bug, caught');
});

t.test("a leader's framed Raft batches carry a page to its followers", async (t) => {
  const cluster = await startCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const client = new KvcClient({ endpoints: [leader.address] });
  t.teardown(() => client.close());
  const data = randomBytes(3 * 1024 * 1024 + 11);
  const key = Buffer.from('framed-send');
  const [outcome] = await client.putPages([{ meta: { namespace: 'f', key, dtype: 'u8', shape: [data.byteLength], tokens: 1 }, data }]);
  t.equal(outcome?.code, '', 'stored');
  const applied = leader.node.status().appliedIndex;
  for (const follower of cluster.followers()) {
    const deadline = Date.now() + 10_000;
    while (follower.node.status().appliedIndex < applied && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const pages = [];
    for await (const page of client.getPages('f', [key], { endpoint: follower.address })) pages.push(page);
    t.equal(pages.length, 1, `member ${follower.id} has the page`);
    t.ok(Buffer.from(pages[0]!.data).equals(data), `member ${follower.id} serves the same bytes`);
  }
});
