// Proves the put lane (src/rpc put-lane.ts, src/client put-lane.ts) against real in-process members
// on 127.0.0.1 (test/rpc helpers: real gRPC servers, WALs and LevelDBs, fsync off):
// - a client's puts go over the lane once it is up (the first goes over gRPC while it connects),
//   concurrent calls share one connection, a page of several messages arrives whole, and every
//   page reads back byte for byte;
// - refusals come back over the lane with the codes and gRPC statuses they have over gRPC
//   (tokens: KVC_UNAUTHENTICATED, KVC_PERMISSION_DENIED), and a follower's KVC_NOT_LEADER sends
//   the client on to the leader;
// - bad bytes close the connection they came on and nothing else: an unknown kind, an OPEN that
//   is no JSON, a frame longer than any message; a message that does not decode is that call's
//   KVC_MALFORMED_REQUEST, and the connection serves the next call; a call left open past its
//   deadline ends with KVC_DEADLINE_EXCEEDED, a cancelled one with no answer;
// - a member that restarts gets its lane back within seconds (a connection not made is tried
//   again soon; a refusal only after a minute);
// - putVia 'grpc' never opens a lane.
import t from 'tap';
import net from 'node:net';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import { LIMITS } from '../../src/limits.js';
import { FrameReader, PUT_LANE_HEAD_BYTES, PUT_LANE_HELLO, PUT_LANE_KINDS, putLaneFrameHead } from '../../src/proto/index.js';
import { hashToken, loadProtos, type TokenGrant } from '../../src/rpc/index.js';
import { eventually, pageBytes, pageKey, pageMessages, startCluster, u8Page } from '../rpc/helpers.js';

const NS = 'tenant-a';
const OTHER_NS = 'tenant-b';

function page(i: number, bytes: number, ns = NS): PageInput {
  return { meta: { namespace: ns, key: pageKey(i), dtype: 'u8', shape: [bytes], tokens: 16 }, data: pageBytes(i, bytes) };
}

/** Puts one small page at a time until one went over the lane (the first ones go over gRPC while it connects). */
async function untilLaneUp(client: KvcClient, first: number): Promise<number> {
  let i = first;
  await eventually(
    async () => {
      const [outcome] = await client.putPages([page(i++, 64)]);
      if (outcome?.code !== '') throw new Error(`a warm-up put failed: ${outcome?.code}`);
      return client.putAttempts.lane > 0;
    },
    10_000,
    'a put over the lane',
  );
  return i;
}

t.test('puts over the lane', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const client = new KvcClient({ endpoints: [leader.address], deadlineMs: 10_000 });
  t.teardown(() => client.close());

  t.test('go over the lane once it is up, and read back as sent', async (t) => {
    const [first] = await client.putPages([page(0, 64)]);
    t.equal(first!.code, '', 'the first put is stored');
    t.same(client.putAttempts, { lane: 0, grpc: 1 }, 'it went over gRPC: the lane was still connecting');
    const next = await untilLaneUp(client, 1);
    const before = { ...client.putAttempts };
    // Eight calls at once on one connection, one of them a page of several messages (3 chunks).
    const sizes = [256 * 1024, 256 * 1024, 3 * LIMITS.page.chunkBytes - 1000, 4096, 256 * 1024, 1, 65536, 200_000];
    const pages = sizes.map((bytes, k) => page(next + k, bytes));
    const outcomes = await Promise.all(pages.map((p) => client.putPages([p])));
    t.same(
      outcomes.map(([o]) => o!.code),
      sizes.map(() => ''),
      'every page is stored',
    );
    t.same(client.putAttempts, { lane: before.lane + pages.length, grpc: before.grpc }, 'all of them over the lane');
    const read = [];
    for await (const got of client.getPages(NS, pages.map((p) => p.meta.key))) read.push(got);
    t.equal(read.length, pages.length, 'every page reads back');
    for (const [k, p] of pages.entries()) t.ok(Buffer.from(read[k]!.data).equals(Buffer.from(p.data)), `page of ${sizes[k]} bytes: the same bytes`);
  });

  t.test('a member that restarts gets its lane back within seconds', async (t) => {
    const member = cluster.members.get(1)!;
    await member.stop();
    await cluster.start(1);
    await cluster.leader();
    // The first puts meet the restart: refused connections, retried; then gRPC, then the lane again.
    const before = client.putAttempts.lane;
    const started = Date.now();
    let i = 5000;
    await eventually(
      async () => {
        const [outcome] = await client.putPages([page(i++, 4096)]);
        return outcome?.code === '' && client.putAttempts.lane > before;
      },
      10_000,
      'a put over the lane after the restart',
    );
    t.ok(Date.now() - started < 10_000, `the lane was back after ${Date.now() - started} ms, not after a refusal's minute`);
    t.equal(await client.lookup(NS, [pageKey(i - 1)]), 1, 'and the put is stored');
  });

  t.test('putVia grpc never opens a lane', async (t) => {
    const grpcOnly = new KvcClient({ endpoints: [leader.address], putVia: 'grpc' });
    t.teardown(() => grpcOnly.close());
    for (let i = 0; i < 5; i++) t.equal((await grpcOnly.putPages([page(1000 + i, 64)]))[0]!.code, '');
    t.same(grpcOnly.putAttempts, { lane: 0, grpc: 5 });
    t.throws(() => new KvcClient({ endpoints: [leader.address], putVia: 'udp' as never }), TypeError, 'an unknown putVia is refused');
  });

  t.test('bad bytes close their connection, not the member', async (t) => {
    const bad: [string, Buffer][] = [
      ['a frame of an unknown kind', frame(9, 1, Buffer.alloc(0))],
      ['an OPEN that is no JSON', frame(PUT_LANE_KINDS.open, 1, Buffer.from('{not json'))],
      ['an OPEN without a timeout', frame(PUT_LANE_KINDS.open, 1, Buffer.from('{"metadata":{}}'))],
      ['a frame longer than any message', Buffer.from([0, 0xff, 0xff, 0xff, 0xff])],
      ['a compressed frame', Buffer.from([1, 0, 0, 0, 5, 1, 0, 0, 0, 1])],
      ['a frame shorter than its head', Buffer.from([0, 0, 0, 0, 2, 1, 0])],
    ];
    for (const [what, bytes] of bad) {
      const lane = await RawLane.open(leader.address);
      lane.socket.write(bytes);
      await lane.closed;
      t.pass(`${what}: the connection was closed`);
    }
    t.equal((await client.putPages([page(2000, 4096)]))[0]!.code, '', 'the member still takes puts');

    const lane = await RawLane.open(leader.address);
    t.teardown(() => lane.socket.destroy());
    lane.socket.write(frame(PUT_LANE_KINDS.open, 7, Buffer.from(JSON.stringify({ timeoutMs: 5_000 }))));
    lane.socket.write(frame(PUT_LANE_KINDS.message, 7, Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f])));
    const answer = await lane.next();
    t.equal(answer.kind, PUT_LANE_KINDS.error, 'a message that does not decode is answered with an error');
    t.equal(answer.id, 7, 'for its call');
    const error = JSON.parse(answer.body.toString('utf8')) as { code: number; metadata: Record<string, string> };
    t.equal(error.metadata['kvc-code'], 'KVC_MALFORMED_REQUEST');
    t.equal(error.code, 3, 'INVALID_ARGUMENT, as over gRPC');
    // The same connection takes the next call.
    const [message] = pageMessages(u8Page(2001, 3, 1, NS));
    const request = loadProtos().cache.PutPages!.requestSerialize(message);
    lane.socket.write(frame(PUT_LANE_KINDS.open, 8, Buffer.from(JSON.stringify({ timeoutMs: 5_000 }))));
    lane.socket.write(frame(PUT_LANE_KINDS.message, 8, request));
    lane.socket.write(frame(PUT_LANE_KINDS.end, 8, Buffer.alloc(0)));
    const result = await lane.next();
    t.equal(result.id, 8);
    const body = result.kind === PUT_LANE_KINDS.result ? loadProtos().cache.PutPages!.responseDeserialize(result.body) : JSON.parse(result.body.toString('utf8'));
    t.equal(result.kind, PUT_LANE_KINDS.result, `the next call on the connection is answered (${JSON.stringify(body)})`);
    t.equal(await client.lookup(NS, [pageKey(2001)]), 1, 'and its page is stored');

    // A call whose last message never comes ends at its deadline, as a gRPC call does.
    const [head] = pageMessages(u8Page(2002, 3 * 1024, 1, NS), 1024);
    lane.socket.write(frame(PUT_LANE_KINDS.open, 9, Buffer.from(JSON.stringify({ timeoutMs: 300 }))));
    lane.socket.write(frame(PUT_LANE_KINDS.message, 9, loadProtos().cache.PutPages!.requestSerialize(head)));
    const expired = await lane.next();
    t.same({ id: expired.id, kind: expired.kind }, { id: 9, kind: PUT_LANE_KINDS.error }, 'a call left open past its deadline is answered with an error');
    const expiredError = JSON.parse(expired.body.toString('utf8')) as { code: number; metadata: Record<string, string> };
    t.same({ code: expiredError.code, kvc: expiredError.metadata['kvc-code'] }, { code: 4, kvc: 'KVC_DEADLINE_EXCEEDED' }, 'DEADLINE_EXCEEDED');
    t.equal(await client.lookup(NS, [pageKey(2002)]), 0, 'and its unfinished page is not stored');

    // A cancelled call is not answered; the connection goes on.
    lane.socket.write(frame(PUT_LANE_KINDS.open, 10, Buffer.from(JSON.stringify({ timeoutMs: 5_000 }))));
    lane.socket.write(frame(PUT_LANE_KINDS.message, 10, loadProtos().cache.PutPages!.requestSerialize(head)));
    lane.socket.write(frame(PUT_LANE_KINDS.cancel, 10, Buffer.alloc(0)));
    const [again] = pageMessages(u8Page(2003, 3, 1, NS));
    lane.socket.write(frame(PUT_LANE_KINDS.open, 11, Buffer.from(JSON.stringify({ timeoutMs: 5_000 }))));
    lane.socket.write(frame(PUT_LANE_KINDS.message, 11, loadProtos().cache.PutPages!.requestSerialize(again)));
    lane.socket.write(frame(PUT_LANE_KINDS.end, 11, Buffer.alloc(0)));
    const afterCancel = await lane.next();
    t.same({ id: afterCancel.id, kind: afterCancel.kind }, { id: 11, kind: PUT_LANE_KINDS.result }, 'the cancelled call gets no answer, the next one its result');
    t.equal(await client.lookup(NS, [pageKey(2002)]), 0, 'the cancelled page is not stored');
  });
});

t.test('refusals come back over the lane as over gRPC', async (t) => {
  const TOKENS = { writer: 'writer-secret', other: 'other-secret' };
  const tokens: TokenGrant[] = [
    { name: 'writer', sha256: hashToken(TOKENS.writer), scopes: ['read', 'write'], namespaces: [NS] },
    { name: 'other', sha256: hashToken(TOKENS.other), scopes: ['read'], namespaces: ['*'] },
  ];
  const cluster = await startCluster([1, 2, 3], { tokens });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const follower = cluster.followers()[0]!;
  const clients = (token: string | undefined): { lane: KvcClient; grpc: KvcClient } => {
    const o = { endpoints: [leader.address], retries: 1, backoffBaseMs: 10, ...(token === undefined ? {} : { token }) };
    const made = { lane: new KvcClient(o), grpc: new KvcClient({ ...o, putVia: 'grpc' }) };
    t.teardown(() => (made.lane.close(), made.grpc.close()));
    return made;
  };

  const writer = clients(TOKENS.writer);
  let next = await untilLaneUp(writer.lane, 0);
  const refusals: [string, string | undefined, string][] = [
    ['no token', undefined, NS],
    ['a read-only token', TOKENS.other, NS],
    ['a token of another namespace', TOKENS.writer, OTHER_NS],
  ];
  for (const [what, token, ns] of refusals) {
    const { lane, grpc } = token === TOKENS.writer ? writer : clients(token);
    // The lane comes up with the first put, refused or not.
    await eventually(
      async () => {
        await lane.putPages([page(next++, 64, ns)]).catch(() => undefined);
        return lane.putAttempts.lane > 0;
      },
      10_000,
      `${what}: a put over the lane`,
    );
    const overLane = (await lane.putPages([page(next++, 64, ns)]).catch((e: unknown) => e)) as { code: string; grpcCode: number };
    const overGrpc = (await grpc.putPages([page(next++, 64, ns)]).catch((e: unknown) => e)) as { code: string; grpcCode: number };
    t.ok(overLane.code.startsWith('KVC_'), `${what}: refused over the lane with ${overLane.code}`);
    t.same({ code: overLane.code, grpcCode: overLane.grpcCode }, { code: overGrpc.code, grpcCode: overGrpc.grpcCode }, `${what}: the same code and status as over gRPC`);
  }

  t.test("a follower's KVC_NOT_LEADER sends the client on to the leader", async (t) => {
    const viaFollower = new KvcClient({ endpoints: [follower.address], token: TOKENS.writer, backoffBaseMs: 10 });
    t.teardown(() => viaFollower.close());
    const pages = Array.from({ length: 20 }, (_, k) => page(next + k, 4096));
    next += pages.length;
    for (const p of pages) t.equal((await viaFollower.putPages([p]))[0]!.code, '');
    t.ok(viaFollower.putAttempts.lane > 0, `puts went over the lane (${JSON.stringify(viaFollower.putAttempts)})`);
    await eventually(() => leader.node.lookup(NS, pages.map((p) => p.meta.key), 0) === pages.length, 10_000, 'the leader to hold every page');
    t.pass('the leader holds every page');
  });
});

function frame(kind: number, id: number, body: Buffer): Buffer {
  return Buffer.concat([putLaneFrameHead(kind, id, body.byteLength), body]);
}

/** A put-lane connection written by hand: the hello exchanged, answers read as frames. */
class RawLane {
  readonly socket: net.Socket;
  readonly closed: Promise<void>;
  readonly #answers: { kind: number; id: number; body: Buffer }[] = [];
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => undefined);
    const reader = new FrameReader(LIMITS.rpc.clientMessageBytesMax, (message) => {
      this.#answers.push({ kind: message[0]!, id: message.readUInt32BE(1), body: Buffer.from(message.subarray(PUT_LANE_HEAD_BYTES)) });
      this.#wake?.();
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  static async open(address: string): Promise<RawLane> {
    const [host, port] = address.split(':');
    const socket = net.connect({ host: host!, port: Number(port) });
    socket.write(PUT_LANE_HELLO);
    const hello = await new Promise<Buffer>((resolve, reject) => {
      socket.once('data', resolve);
      socket.once('error', reject);
    });
    if (!hello.subarray(0, PUT_LANE_HELLO.byteLength).equals(PUT_LANE_HELLO)) throw new Error(`the member answered ${hello.toString('latin1')}`);
    const lane = new RawLane(socket);
    if (hello.byteLength > PUT_LANE_HELLO.byteLength) socket.unshift(hello.subarray(PUT_LANE_HELLO.byteLength));
    return lane;
  }

  async next(): Promise<{ kind: number; id: number; body: Buffer }> {
    while (this.#answers.length === 0) await new Promise<void>((resolve) => (this.#wake = resolve));
    return this.#answers.shift()!;
  }
}
