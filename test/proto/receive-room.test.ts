// Proves src/proto/receive-room.ts. Once installReceiveRoom() ran, grpc-js' StreamDecoder hands out
// every message of RECEIVE_ROOM_MESSAGE_BYTES_MIN or more in a buffer of its own, behind
// RECEIVE_ROOM_BYTES of room, and every smaller one as grpc-js does; the framed bytes are the same
// however the stream is cut into chunks (1-byte chunks through headers included), and the length
// limit still throws. Over a real grpc-js stream on loopback the server receives large messages
// that way. Through a real 3-member cluster, pages that came in one message (where the leader
// writes its entry's head over the bytes before the payload) keep their keys, parent keys and
// bytes on every member, beside pages of several messages and small ones.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { RECEIVE_ROOM_BYTES, RECEIVE_ROOM_MESSAGE_BYTES_MIN, inRoomyBuffer, installReceiveRoom } from '../../src/proto/index.js';
import { prng } from '../codec/prng.js';
import { startCluster } from '../rpc/helpers.js';
import { uploadServer } from './upload-server.js';

type Decoder = { write(data: Buffer): Buffer[] };
const require = createRequire(import.meta.url);
const { StreamDecoder } = require('@grpc/grpc-js/build/src/stream-decoder.js') as { StreamDecoder: new (max: number) => Decoder };

function framed(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.byteLength, 1);
  return Buffer.concat([header, message]);
}

t.test('large messages come in a buffer of their own behind the room; the bytes are the same however the stream is cut', async (t) => {
  t.same(installReceiveRoom(), { installed: true, reason: '' }, 'this grpc-js has the decoder it replaces');
  t.same(installReceiveRoom(), { installed: true, reason: '' }, 'a second call changes nothing');
  const sizes = [0, 10, RECEIVE_ROOM_MESSAGE_BYTES_MIN - 1, RECEIVE_ROOM_MESSAGE_BYTES_MIN, 1024 * 1024 + 3, 100, 0, 2 * RECEIVE_ROOM_MESSAGE_BYTES_MIN];
  const messages = sizes.map((bytes) => randomBytes(bytes));
  const stream = Buffer.concat(messages.map(framed));
  const next = prng(11);
  for (const cut of ['whole', 'bytes at the edges', 'random']) {
    const decoder = new StreamDecoder(-1);
    const out: Buffer[] = [];
    let at = 0;
    while (at < stream.byteLength) {
      let length = stream.byteLength;
      if (cut === 'random') length = 1 + (next() % 70_000);
      // Single bytes through every frame header and the first bytes of each message.
      if (cut === 'bytes at the edges') length = at % 97 < 12 ? 1 : 5000;
      out.push(...decoder.write(stream.subarray(at, at + length)));
      at += length;
    }
    t.equal(out.length, messages.length, `${cut}: every message`);
    let right = 0;
    let roomy = 0;
    out.forEach((got, i) => {
      if (got.equals(framed(messages[i]!))) right++;
      const large = messages[i]!.byteLength >= RECEIVE_ROOM_MESSAGE_BYTES_MIN;
      if (inRoomyBuffer(got) !== large) t.fail(`${cut}: message ${i} (${messages[i]!.byteLength} bytes) ${large ? 'lacks' : 'has'} room`);
      if (large && got.byteOffset === RECEIVE_ROOM_BYTES && got.buffer.byteLength === RECEIVE_ROOM_BYTES + got.byteLength) roomy++;
    });
    t.equal(right, messages.length, `${cut}: every message framed as sent`);
    t.equal(roomy, sizes.filter((bytes) => bytes >= RECEIVE_ROOM_MESSAGE_BYTES_MIN).length, `${cut}: the large ones alone in their buffer, behind the room`);
  }
  const limited = new StreamDecoder(1000);
  t.throws(() => limited.write(framed(Buffer.alloc(1001))), /larger than max/, 'the length limit holds');
});

t.test('a grpc-js server receives large messages with room', async (t) => {
  installReceiveRoom();
  const describe = (m: Buffer): string => `${inRoomyBuffer(m)}:${createHash('sha256').update(m).digest('hex')}`;
  const upload = await uploadServer(t, describe);
  const messages = [randomBytes(3 * 1024 * 1024), randomBytes(5), randomBytes(RECEIVE_ROOM_MESSAGE_BYTES_MIN)];
  const answer = await upload(messages);
  const expected = messages.map((m) => `${m.byteLength >= RECEIVE_ROOM_MESSAGE_BYTES_MIN}:${createHash('sha256').update(m).digest('hex')}`).join(',');
  t.equal(answer, expected, 'the same bytes; the large ones with room');
});

t.test('pages of one message keep their keys, parent keys and bytes on every member', async (t) => {
  const cluster = await startCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const client = new KvcClient({ endpoints: [leader.address] });
  t.teardown(() => client.close());
  // One message up to 1 MiB (the chunk size), two past it; under the room's threshold, grpc-js' own decoding.
  const sizes = [1, RECEIVE_ROOM_MESSAGE_BYTES_MIN - 100, RECEIVE_ROOM_MESSAGE_BYTES_MIN, 1024 * 1024, 1024 * 1024 + 1];
  const pages = sizes.map((bytes, i) => ({
    meta: { namespace: 'room', key: randomBytes(16 + i), parentKey: i % 2 === 0 ? randomBytes(16) : undefined, dtype: 'u8' as const, shape: [bytes], tokens: 1 },
    data: randomBytes(bytes),
  }));
  for (const page of pages) {
    const [outcome] = await client.putPages([page]);
    t.equal(outcome?.code, '', `a page of ${page.data.byteLength} bytes stored`);
  }
  const applied = leader.node.status().appliedIndex;
  for (const member of [leader, ...cluster.followers()]) {
    const deadline = Date.now() + 10_000;
    while (member.node.status().appliedIndex < applied && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const served = [];
    for await (const page of client.getPages('room', pages.map((p) => p.meta.key), { endpoint: member.address })) served.push(page);
    t.equal(served.length, pages.length, `member ${member.id} serves every page`);
    t.ok(served.every((page, i) => Buffer.from(page.data).equals(pages[i]!.data)), `member ${member.id}: the same bytes`);
    const { pages: listed } = await client.listAllPages({ namespace: 'room', endpoint: member.address });
    const byKey = new Map(listed.map((p) => [Buffer.from(p.key).toString('hex'), p]));
    const intact = pages.filter((p) => {
      const got = byKey.get(p.meta.key.toString('hex'));
      return got !== undefined && Buffer.from(got.parentKey).equals(p.meta.parentKey ?? Buffer.alloc(0)) && got.bytes === p.data.byteLength;
    });
    t.equal(intact.length, pages.length, `member ${member.id}: every key, parent key and size as put`);
  }
});
