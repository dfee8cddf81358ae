// Proves the gRPC peer transport (src/rpc/grpc-transport.ts with peer-service.ts receiving) between
// two real transports over loopback, each behind its own grpc-js server: messages to a peer
// without an address, or to a peer that cannot be reached within PEER_CONNECT_GRACE_MS, are
// dropped and counted, never queued without bound, while the first messages to a peer whose
// channel is still connecting wait for it and arrive; messages arrive in order and the receiver learns the sender's address; large messages
// are split into batches and the bytes waiting on a stream are bounded (the rest waits in a
// bounded outbox, whose overflow is dropped); a peer that goes away and comes back on the same
// address is reached again; an address change moves the link; heartbeats and votes ride a lane of
// their own and overtake queued appends; snapshots stream chunk by chunk,
// and a transfer that fails on either side reports false. Every test runs three times: appends on
// the socket lane (src/rpc/peer-socket.ts), on gRPC, and on a socket lane the receiving servers
// refuse (older members), where the sender falls back to gRPC without losing what it had written.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { decodeAccessReport, encodeAccessReport } from '../../src/codec/index.js';
import { EntryType, MessageType, type Message } from '../../src/raft/index.js';
import type { TransportHandler } from '../../src/node/index.js';
import type { SnapshotChunk } from '../../src/store/index.js';
import { GrpcTransport, acceptPeerSockets, loadProtos, serverOptions } from '../../src/rpc/index.js';
import { PEER_CONNECT_GRACE_MS } from '../../src/rpc/grpc-transport.js';
import { MemberContext } from '../../src/rpc/member-context.js';
import { PeerService } from '../../src/rpc/peer-service.js';
import { eventually, reservePorts, sleep } from './helpers.js';

const MIB = 1024 * 1024;

function message(from: number, to: number, index: number, entryBytes = 0): Message {
  const entries = entryBytes > 0 ? [{ term: 1, index, type: EntryType.Normal, data: new Uint8Array(entryBytes).fill(index & 0xff) }] : [];
  return { type: MessageType.App, from, to, term: 1, logTerm: 1, index, entries, commit: 0, reject: false, rejectHint: 0 };
}

class Receiver implements TransportHandler {
  messages: Message[] = [];
  snapshots: { message: Message; chunks: SnapshotChunk[] }[] = [];
  failSnapshots = false;
  reports: { from: number; report: Uint8Array }[] = [];
  onMessage(m: Message): void {
    this.messages.push(m);
  }
  onAccessReport(from: number, report: Uint8Array): void {
    this.reports.push({ from, report: new Uint8Array(report) });
  }
  async onSnapshot(m: Message, chunks: AsyncIterable<SnapshotChunk>): Promise<void> {
    const received: SnapshotChunk[] = [];
    for await (const chunk of chunks) {
      received.push(chunk);
      if (this.failSnapshots) throw new Error('refused by the test');
    }
    this.snapshots.push({ message: m, chunks: received });
  }
}

/**
 * Appends travel over the socket lane (peer-socket.ts) or a gRPC stream; every test runs over both.
 * `accepting`: the receiving servers take socket-lane connections (a member's always do; an older
 * member's do not).
 */
const LANES = [
  { lane: 'socket', accepting: true },
  { lane: 'grpc', accepting: true },
  { lane: 'socket', accepting: false },
] as const;

interface Peer {
  id: number;
  address: string;
  transport: GrpcTransport;
  receiver: Receiver;
  server: grpc.Server;
  stopServer(): void;
  startServer(): Promise<void>;
}

for (const { lane, accepting } of LANES) {
  const label = `appends over ${lane}${accepting ? '' : ' to servers without the socket lane'}`;
  async function peer(id: number, port: number, options: ConstructorParameters<typeof GrpcTransport>[0] = {}): Promise<Peer> {
    const address = `127.0.0.1:${port}`;
    const transport = new GrpcTransport({ socketLane: lane === 'socket', ...options });
    let service: PeerService | undefined;
    const receiver = new Receiver();
    transport.register(id, receiver);
    transport.setSelfAddress(address);
    const result: Peer = {
      id,
      address,
      transport,
      receiver,
      server: new grpc.Server(serverOptions()),
      stopServer() {
        // As a member stops: its socket-lane connections close with its server.
        service?.endStreams();
        result.server.forceShutdown();
      },
      async startServer() {
        const ctx = new MemberContext({ id, address: () => address, addressOf: (x) => transport.addresses.get(x), log: () => undefined, config: () => ({}) });
        result.server = new grpc.Server(serverOptions());
        service = new PeerService(ctx, transport);
        result.server.addService(loadProtos().peer, service.handlers());
        await new Promise<void>((resolve, reject) => result.server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
        if (accepting) acceptPeerSockets(result.server, service.acceptSocket);
      },
    };
    await result.startServer();
    t.teardown(() => {
      transport.close();
      result.stopServer();
    });
    return result;
  }

  // Ports are reserved when a test runs: servers of earlier tests stay bound until the file ends, so none is handed out twice.

  t.test(`${label}: drops without an address, then delivers in order and learns the sender address`, async (t) => {
    const [pa, pb] = await reservePorts(2);
    const a = await peer(1, pa!);
    const b = await peer(2, pb!);
    a.transport.send([message(1, 2, 1)]);
    t.equal(a.transport.counters.dropped, 1, 'no address: dropped');
    a.transport.addresses.set(2, b.address);
    t.equal(b.transport.addresses.get(1), undefined);
    await eventually(() => {
      a.transport.send([message(1, 2, 2), message(1, 2, 3)]);
      return b.receiver.messages.length > 0;
    }, 5_000, 'the first delivery once connected');
    await sleep(50);
    a.transport.send(Array.from({ length: 50 }, (_, i) => message(1, 2, 100 + i)));
    const batch = (): Message[] => b.receiver.messages.filter((m) => m.index >= 100);
    await eventually(() => batch().length === 50, 5_000, '50 messages');
    t.same(batch().map((m) => m.index), Array.from({ length: 50 }, (_, i) => 100 + i), 'in order');
    t.equal(b.transport.addresses.get(1), a.address, 'the receiver learned the sender address');
    t.equal(b.transport.counters.received, b.receiver.messages.length);
    a.transport.send([message(1, 1, 1)]);
    t.ok(a.transport.counters.dropped >= 2, 'a message to itself has no link');
    b.transport.unregister(2);
    a.transport.send([message(1, 2, 999)]);
    await eventually(() => b.transport.counters.rejected >= 1, 5_000, 'a message to an unregistered member to be rejected');
  });

  t.test(`${label}: access reports ride the Raft stream to the leader and arrive intact`, async (t) => {
    const [pa, pb] = await reservePorts(2);
    const a = await peer(31, pa!);
    const b = await peer(32, pb!);
    a.transport.addresses.set(32, b.address);
    const report = encodeAccessReport(new Map([['ns', [{ key: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), ageMs: 5, leaseMs: 1000 }]]]));
    await eventually(() => {
      // The first report may find no stream yet (best effort, dropped and counted); messages open it.
      a.transport.send([message(31, 32, 1)]);
      a.transport.sendAccessReport(31, 32, report);
      return b.receiver.reports.length > 0;
    }, 5_000, 'an access report');
    t.equal(b.receiver.reports[0]!.from, 31);
    t.same(decodeAccessReport(b.receiver.reports[0]!.report).get('ns'), [{ key: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), ageMs: 5, leaseMs: 1000 }]);
    t.same(b.receiver.messages.filter((m) => m.index === 0), [], 'a report-only batch delivers no Raft message');
  });

  t.test(`${label}: first messages to a fresh peer wait for its connection; an unreachable one drops them`, async (t) => {
    const [pa, pb, pdead] = await reservePorts(3);
    const a = await peer(21, pa!);
    const b = await peer(22, pb!);
    a.transport.addresses.set(22, b.address);
    // One send, on a channel that has never connected: nothing is retried by the test.
    a.transport.send([message(21, 22, 1), message(21, 22, 2), message(21, 22, 3)]);
    await eventually(() => b.receiver.messages.length === 3, 5_000, 'the three messages');
    t.same(b.receiver.messages.map((m) => m.index), [1, 2, 3], 'delivered in order once connected');
    t.equal(a.transport.counters.dropped, 0, 'nothing dropped while connecting');

    a.transport.addresses.set(23, `127.0.0.1:${pdead!}`); // reserved, nobody listens
    a.transport.send([message(21, 23, 1)]);
    await eventually(() => a.transport.counters.dropped === 1, PEER_CONNECT_GRACE_MS + 5_000, 'the message to the unreachable peer to be dropped');
    t.pass('dropped once the peer proved unreachable or the grace ran out');
  });

  t.test(`${label}: large messages: batches, bounded unsent bytes, bounded outbox`, async (t) => {
    const [pa, pb] = await reservePorts(2);
    const b = await peer(4, pb!);
    const a = await peer(3, pa!, { unsentBytesMax: 8 * MIB, outboxBytesMax: 24 * MIB });
    a.transport.addresses.set(4, b.address);
    await eventually(() => {
      a.transport.send([message(3, 4, 1)]);
      return b.receiver.messages.length > 0;
    }, 5_000, 'connected');
    await sleep(50);
    const sentBefore = a.transport.counters.sent;
    // 40 messages of 1 MiB: 8 MiB may wait on the stream, 24 MiB in the outbox; the rest is dropped.
    const droppedBefore = a.transport.counters.dropped;
    a.transport.send(Array.from({ length: 40 }, (_, i) => message(3, 4, 10 + i, MIB)));
    await sleep(50);
    a.transport.send(Array.from({ length: 40 }, (_, i) => message(3, 4, 50 + i, MIB)));
    await eventually(() => a.transport.counters.sent >= sentBefore + 24, 10_000, 'writes to complete');
    // Written is not yet received: under load the last written message may still be on its way.
    await eventually(() => b.receiver.messages.filter((m) => m.index >= 10).length >= 24, 10_000, 'the written messages to arrive');
    await sleep(300);
    const delivered = b.receiver.messages.filter((m) => m.index >= 10);
    t.ok(delivered.length >= 24 && delivered.length < 80, `some delivered (${delivered.length}), not all`);
    t.ok(a.transport.counters.dropped > droppedBefore, 'the outbox overflow was dropped and counted');
    t.ok(delivered.every((m, i) => i === 0 || m.index > delivered[i - 1]!.index), 'what arrives is in order');
    t.ok(delivered.every((m) => m.entries[0]!.data.byteLength === MIB && m.entries[0]!.data[0] === (m.index & 0xff)), 'intact');
  });

  t.test(`${label}: heartbeats and votes do not wait behind appends: they ride the control lane`, async (t) => {
    const [pa, pb] = await reservePorts(2);
    const b = await peer(8, pb!);
    const a = await peer(7, pa!, { unsentBytesMax: 4 * MIB, outboxBytesMax: 64 * MIB });
    a.transport.addresses.set(8, b.address);
    await eventually(() => {
      a.transport.send([message(7, 8, 1)]);
      return b.receiver.messages.length > 0;
    }, 5_000, 'connected');
    await sleep(50);
    b.receiver.messages = [];
    const heartbeat: Message = { ...message(7, 8, 0), type: MessageType.Heartbeat };
    const vote: Message = { ...message(7, 8, 0), type: MessageType.PreVote, term: 2 };
    // 40 MiB of appends queued first (4 MiB may wait on the bulk stream), then a heartbeat and a pre-vote.
    a.transport.send([...Array.from({ length: 40 }, (_, i) => message(7, 8, 10 + i, MIB)), heartbeat, vote]);
    await eventually(() => b.receiver.messages.length === 42, 15_000, 'every message to arrive');
    const order = b.receiver.messages.map((m) => m.type);
    const beat = order.indexOf(MessageType.Heartbeat);
    t.ok(beat >= 0 && beat < 10, `the heartbeat arrived ${beat}th, not behind the 40 appends`);
    t.ok(order.indexOf(MessageType.PreVote) < 10, 'so did the pre-vote');
    const appends = b.receiver.messages.filter((m) => m.type === MessageType.App);
    t.ok(appends.every((m, i) => i === 0 || m.index === appends[i - 1]!.index + 1), 'appends keep their order within their lane');
    t.equal(a.transport.counters.dropped, 0, 'nothing dropped');
  });

  t.test(`${label}: a peer that goes away and comes back, and an address change`, async (t) => {
    const [pa, pb, pc] = await reservePorts(3);
    const a = await peer(5, pa!);
    const b = await peer(6, pb!);
    a.transport.addresses.set(6, b.address);
    const deliver = (tag: number): Promise<void> =>
      eventually(() => {
        a.transport.send([message(5, 6, tag)]);
        return b.receiver.messages.some((m) => m.index === tag);
      }, 8_000, `message ${tag}`);
    await deliver(1);
    b.stopServer();
    await sleep(100);
    const dropped = a.transport.counters.dropped;
    for (let i = 0; i < 5; i++) {
      a.transport.send([message(5, 6, 2)]);
      await sleep(50);
    }
    t.ok(a.transport.counters.dropped > dropped, 'messages to the vanished peer are dropped');
    await b.startServer();
    const back = Date.now();
    await deliver(3);
    t.ok(Date.now() - back < 5_000, `reached again ${Date.now() - back} ms after it came back`);
    // The peer moves to a new address.
    const moved = await peer(6, pc!);
    a.transport.addresses.set(6, moved.address);
    await eventually(() => {
      a.transport.send([message(5, 6, 4)]);
      return moved.receiver.messages.some((m) => m.index === 4);
    }, 5_000, 'delivery at the new address');
    t.pass('the link followed the address change');
    a.transport.addresses.delete(6);
    const before = a.transport.counters.dropped;
    a.transport.send([message(5, 6, 5)]);
    t.equal(a.transport.counters.dropped, before + 1, 'a removed member has no link');
  });

  t.test(`${label}: snapshots stream chunk by chunk; failures on either side report false`, async (t) => {
    const [pa, pb] = await reservePorts(2);
    const a = await peer(7, pa!);
    const b = await peer(8, pb!);
    const snap: Message = { ...message(7, 8, 1), type: MessageType.Snap, snapshot: { metadata: { index: 9, term: 1, confState: { voters: [7, 8], learners: [] } }, data: new Uint8Array(0) } };
    async function* chunks(count: number, failAt = -1): AsyncGenerator<SnapshotChunk> {
      for (let seq = 0; seq < count; seq++) {
        if (seq === failAt) throw new Error('store read failed (test)');
        const last = seq === count - 1;
        yield { seq, data: new Uint8Array(256 * 1024).fill(seq), crc32c: seq, last, ...(last ? { totalCrc32c: 77, appliedIndex: 9 } : {}) };
      }
    }
    t.equal(await a.transport.sendSnapshot(snap, chunks(2)), false, 'no address: false');
    a.transport.addresses.set(8, b.address);
    await eventually(async () => a.transport.sendSnapshot(snap, chunks(40)), 5_000, 'a snapshot to be installed');
    const got = b.receiver.snapshots.at(-1)!;
    t.equal(got.message.type, MessageType.Snap);
    t.equal(got.message.snapshot?.metadata.index, 9);
    t.equal(got.chunks.length, 40, 'every chunk arrived');
    t.same(got.chunks.map((c) => c.seq), Array.from({ length: 40 }, (_, i) => i), 'in order');
    t.equal(got.chunks.at(-1)!.totalCrc32c, 77);
    t.equal(got.chunks.at(-1)!.appliedIndex, 9);
    t.equal(got.chunks[0]!.totalCrc32c, undefined, 'only the last chunk carries the totals');
    t.equal(await a.transport.sendSnapshot(snap, chunks(10, 5)), false, 'a sender-side failure: false');
    b.receiver.failSnapshots = true;
    t.equal(await a.transport.sendSnapshot(snap, chunks(10)), false, 'a receiver that refuses: false');
    t.equal(a.transport.counters.snapshotsSent, 1);
    t.ok(a.transport.counters.snapshotsFailed >= 3);
  });
}
