// Proves the socket lane (src/rpc/peer-socket.ts, the receiving side in peer-service.ts) on real
// sockets over loopback: frames are read whole however the bytes are split; a grpc-js server whose
// port also takes socket-lane connections still serves gRPC, including to a client whose first
// bytes only begin like the hello; the hello may arrive split; bad input on the lane (an oversized
// or compressed frame, bytes that do not decode, a client that leaves mid-hello) closes that
// connection only, is counted, and the next connection is served; a sender is told when the peer
// refuses the lane (an older member) and gets back what waited for the hello; a peer that stops
// reading is given up after the stall time; a peer nobody listens for ends the stream.
import net from 'node:net';
import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { encodeMessageParts } from '../../src/codec/index.js';
import { EntryType, MessageType, type Message } from '../../src/raft/index.js';
import type { TransportHandler } from '../../src/node/index.js';
import { FrameReader } from '../../src/proto/index.js';
import { GrpcTransport, PEER_SOCKET_HELLO, PeerSocketStream, acceptPeerSockets, loadProtos, serverOptions, type PeerSocketEnd } from '../../src/rpc/index.js';
import { MemberContext } from '../../src/rpc/member-context.js';
import { PeerService } from '../../src/rpc/peer-service.js';
import { serializeRaftBatch } from '../../src/rpc/raft-batch-codec.js';
import { framedPieces } from '../../src/proto/index.js';
import { eventually, reservePorts, sleep } from './helpers.js';

const MIB = 1024 * 1024;

function append(from: number, to: number, index: number, entryBytes = 0): Message {
  const entries = entryBytes > 0 ? [{ term: 1, index, type: EntryType.Normal, data: new Uint8Array(entryBytes).fill(index & 0xff) }] : [];
  return { type: MessageType.App, from, to, term: 1, logTerm: 1, index, entries, commit: 0, reject: false, rejectHint: 0 };
}

/** One framed RaftBatch as the socket lane sends it. */
function frame(messages: Message[], from = 1, to = 2): Buffer {
  return Buffer.concat(framedPieces(serializeRaftBatch({ from, to, messages: messages.map(encodeMessageParts), fromAddress: '' })));
}

class Receiver implements TransportHandler {
  messages: Message[] = [];
  onMessage(m: Message): void {
    this.messages.push(m);
  }
  onAccessReport(): void {}
  async onSnapshot(): Promise<void> {}
}

/** A member's peer side: a grpc-js server with PeerService whose port takes socket-lane connections (or not). */
async function member(t: Test, id: number, port: number, accepting = true): Promise<{ address: string; transport: GrpcTransport; receiver: Receiver; server: grpc.Server }> {
  const address = `127.0.0.1:${port}`;
  const transport = new GrpcTransport();
  const receiver = new Receiver();
  transport.register(id, receiver);
  const ctx = new MemberContext({ id, address: () => address, addressOf: (x) => transport.addresses.get(x), log: () => undefined, config: () => ({}) });
  const service = new PeerService(ctx, transport);
  const server = new grpc.Server(serverOptions());
  server.addService(loadProtos().peer, service.handlers());
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  if (accepting) acceptPeerSockets(server, service.acceptSocket);
  t.teardown(() => {
    transport.close();
    service.endStreams();
    server.forceShutdown();
  });
  return { address, transport, receiver, server };
}

/** A raw client: what it received, and whether the server closed the connection. */
function raw(port: number): { socket: net.Socket; received: () => Buffer; closed: Promise<void> } {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, received: () => Buffer.concat(chunks), closed };
}

t.test('FrameReader: frames come out whole however the bytes are split', async (t) => {
  const sizes = [0, 1, 4, 5, 6, 70_000, MIB + 3, 17];
  const messages = sizes.map((n, i) => Buffer.alloc(n, i + 1));
  const stream = Buffer.concat(messages.flatMap((m) => framedPieces(m)));
  for (const split of [1, 3, 5, 4096, 65_536, stream.byteLength]) {
    const got: Buffer[] = [];
    const reader = new FrameReader(2 * MIB, (m) => got.push(Buffer.from(m)));
    for (let at = 0; at < stream.byteLength; at += split) reader.push(stream.subarray(at, at + split));
    t.same(
      got.map((m) => m.byteLength),
      sizes,
      `chunks of ${split} bytes: every frame, in order`,
    );
    t.ok(
      got.every((m, i) => m.equals(messages[i]!)),
      `chunks of ${split} bytes: intact`,
    );
  }
  // With a buffer of the caller's for large messages (the put lane's, with room in front): a
  // message that spans chunks is copied into it as it comes, and that very buffer comes out.
  for (const split of [1, 4096, 65_536]) {
    const given = new Set<Buffer>();
    const got: Buffer[] = [];
    const reader = new FrameReader(
      2 * MIB,
      (m) => got.push(m),
      (length) => {
        if (length < 60_000) return undefined;
        const buffer = Buffer.alloc(length);
        given.add(buffer);
        return buffer;
      },
    );
    for (let at = 0; at < stream.byteLength; at += split) reader.push(stream.subarray(at, at + split));
    t.ok(
      got.every((m, i) => m.equals(messages[i]!)),
      `buffers given, chunks of ${split} bytes: every frame intact, in order`,
    );
    t.same(
      got.map((m) => given.has(m)),
      sizes.map((n) => n >= 60_000),
      `chunks of ${split} bytes: each large message in the buffer given for it`,
    );
  }
  const tooLong = Buffer.from([0, 0, 0x20, 0, 1]);
  t.throws(() => new FrameReader(2 * MIB, () => undefined).push(tooLong), /a frame of 2097153 bytes, at most 2097152/);
  t.throws(() => new FrameReader(2 * MIB, () => undefined).push(Buffer.from([1, 0, 0, 0, 1, 9])), /compressed flag 1/);
});

t.test('one port: gRPC as before, and the socket lane beside it', async (t) => {
  const [pb] = await reservePorts(1);
  const b = await member(t, 2, pb!);
  // gRPC through the sniffer: a transport that never uses the socket lane.
  const grpcOnly = new GrpcTransport({ socketLane: false });
  grpcOnly.register(1, new Receiver());
  t.teardown(() => grpcOnly.close());
  grpcOnly.addresses.set(2, b.address);
  await eventually(() => {
    grpcOnly.send([append(1, 2, 1), { ...append(1, 2, 0), type: MessageType.Heartbeat }]);
    return b.receiver.messages.some((m) => m.type === MessageType.Heartbeat) && b.receiver.messages.some((m) => m.index === 1);
  }, 5_000, 'gRPC delivery through the shared port');

  // The lane, by hand: hello split in two, then two frames in one write.
  const c = raw(pb!);
  c.socket.write(PEER_SOCKET_HELLO.subarray(0, 3));
  await sleep(30);
  c.socket.write(Buffer.concat([PEER_SOCKET_HELLO.subarray(3), frame([append(1, 2, 10, 100_000)]), frame([append(1, 2, 11)])]));
  await eventually(() => b.receiver.messages.some((m) => m.index === 11), 5_000, 'the two appends');
  t.same(c.received(), PEER_SOCKET_HELLO, 'the member answered the hello, and nothing else');
  const big = b.receiver.messages.find((m) => m.index === 10)!;
  t.equal(big.entries[0]!.data.byteLength, 100_000, 'an entry arrives whole');
  t.ok(big.entries[0]!.data.every((x) => x === 10), 'and intact');
  c.socket.destroy();

  // First bytes that only begin like the hello belong to gRPC: HTTP/2 refuses them, the port keeps serving.
  const stranger = raw(pb!);
  stranger.socket.write('KVCRAF!! not a hello');
  await stranger.closed;
  t.not(stranger.received().subarray(0, PEER_SOCKET_HELLO.byteLength).equals(PEER_SOCKET_HELLO), 'no hello for a stranger');
  // A client that leaves mid-hello.
  const leaver = raw(pb!);
  leaver.socket.end(PEER_SOCKET_HELLO.subarray(0, 4));
  await leaver.closed;
  const before = b.receiver.messages.length;
  await eventually(() => {
    grpcOnly.send([append(1, 2, 20)]);
    return b.receiver.messages.length > before;
  }, 5_000, 'gRPC still served');
  t.pass('the port serves gRPC after both');
});

t.test('bad input on the socket lane closes that connection only', async (t) => {
  const [pb] = await reservePorts(1);
  const b = await member(t, 2, pb!);
  const cases: [string, Buffer][] = [
    ['a frame longer than a peer message may be', Buffer.from([0, 0x7f, 0xff, 0xff, 0xff])],
    ['a compressed frame', Buffer.from([1, 0, 0, 0, 1, 0])],
    ['bytes that are no RaftBatch', Buffer.concat(framedPieces(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])))],
  ];
  for (const [what, bytes] of cases) {
    const rejected = b.transport.counters.rejected;
    const c = raw(pb!);
    c.socket.write(Buffer.concat([PEER_SOCKET_HELLO, bytes]));
    await c.closed;
    t.ok(b.transport.counters.rejected > rejected, `${what}: closed and counted`);
  }
  const good = raw(pb!);
  good.socket.write(Buffer.concat([PEER_SOCKET_HELLO, frame([append(1, 2, 5)])]));
  await eventually(() => b.receiver.messages.some((m) => m.index === 5), 5_000, 'a good connection afterwards');
  good.socket.destroy();
  t.pass('the member serves the next connection');
});

t.test('a sender learns of a refusal, a stall and a peer nobody listens for', async (t) => {
  const [pold, pstall, pnobody] = await reservePorts(3);
  // An older member: its port is gRPC's only, which answers the hello with HTTP/2 and closes.
  await member(t, 2, pold!, false);
  const batch = { from: 1, to: 2, messages: [encodeMessageParts(append(1, 2, 1, 1000))], fromAddress: '' };
  const refusal = await new Promise<PeerSocketEnd>((resolve) => {
    const s = new PeerSocketStream(`127.0.0.1:${pold!}`, resolve);
    s.write(batch, () => undefined);
  });
  t.equal(refusal.refused, true, 'refused');
  t.equal(refusal.unsent.length, 1, 'what waited for the hello comes back unsent');

  // A peer that answers and then never reads.
  const stalled = net.createServer((socket) => {
    socket.write(PEER_SOCKET_HELLO);
    socket.pause();
  });
  await new Promise<void>((resolve) => stalled.listen(pstall!, '127.0.0.1', resolve));
  t.teardown(() => {
    stalled.close();
  });
  const started = performance.now();
  const stall = await new Promise<PeerSocketEnd>((resolve) => {
    const s = new PeerSocketStream(`127.0.0.1:${pstall!}`, resolve, { stallMs: 300 });
    const big = { from: 1, to: 2, messages: [encodeMessageParts(append(1, 2, 1, 4 * MIB))], fromAddress: '' };
    for (let i = 0; i < 32; i++) s.write(big, () => undefined);
  });
  t.match(stall.error?.message, /no write completed for 300 ms/, `given up after ${Math.round(performance.now() - started)} ms`);
  t.equal(stall.refused, false);
  t.equal(stall.unsent.length, 0, 'everything had been written once the peer answered');

  const nobody = await new Promise<PeerSocketEnd>((resolve) => {
    const s = new PeerSocketStream(`127.0.0.1:${pnobody!}`, resolve);
    s.write(batch, () => undefined);
  });
  t.match(nobody.error?.message, /ECONNREFUSED/, 'nobody listens');
  t.equal(nobody.refused, false, 'not a refusal of the lane');
  t.equal(nobody.unsent.length, 1);
  const bad = await new Promise<PeerSocketEnd>((resolve) => new PeerSocketStream('no port here', resolve));
  t.match(bad.error?.message, /not a host:port address/);
});
