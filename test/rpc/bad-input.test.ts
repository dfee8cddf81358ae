// Proves that bad input is refused with its gRPC status and stable KVC_* trailer, and that the
// member keeps serving afterwards, on a real 3-member cluster over loopback: empty and oversized
// keys, unknown dtypes, shape × dtype ≠ bytes, a page over the size limit, a bad checksum,
// PutPages streams that end mid-page or break the framing, a client that disconnects mid-stream
// (nothing half-stored), 10,000 keys in one Lookup (or over a batch of prompts, each answered on its
// own), bad namespaces, malformed admin requests, and
// garbage on the peer port (raw TCP junk, junk protobuf, junk and local-only Raft messages, junk
// snapshot streams). After each group the test puts and reads a page and checks no member
// stopped on a fatal error.
import http2 from 'node:http2';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import t, { type Test as TestContext } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c, encodeMessage } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import { MessageType, type Message } from '../../src/raft/index.js';
import { loadProtos, peerChannelOptions, type LookupResponse__Output as LookupResponse, type PutPagesRequest, type PutPagesResponse__Output as PutPagesResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, pageKey, pageMessages, putPages, sleep, startCluster, u8Page, type CallError, type TestPage } from './helpers.js';

const MIB = 1024 * 1024;

const cluster = await startCluster([1, 2, 3]);
t.teardown(() => cluster.stopAll());
const leader = await cluster.leader();
const client = new RawClient(leader.address);
t.teardown(() => client.close());
let probe = 1000;

/** A fresh page put and read back through the leader, and no member stopped. */
async function assertServing(t: TestContext): Promise<void> {
  const page = u8Page(probe++, 4096, 4);
  const put = await putPages(client, [page]);
  t.equal(put.results[0]!.code, '', 'the member still takes puts');
  const lookup = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [page.meta.key] });
  t.equal(lookup.matched, 1, 'and serves lookups');
  for (const m of cluster.members.values()) t.equal(m.node.fatalError, undefined, `member ${m.id} has no fatal error`);
}

async function putError(pages: TestPage[] | PutPagesRequest[], raw = false): Promise<CallError> {
  if (!raw) return putPages(client, pages as TestPage[]).then(() => { throw new Error('the put succeeded'); }, (e: CallError) => e);
  const { call, response } = client.clientStream<PutPagesRequest, PutPagesResponse>('cache', 'PutPages');
  for (const message of pages as PutPagesRequest[]) call.write(message);
  call.end();
  return response.then(() => { throw new Error('the put succeeded'); }, (e: CallError) => e);
}

function withMeta(page: TestPage, meta: Partial<TestPage['meta']> & Record<string, unknown>): TestPage {
  return { meta: { ...page.meta, ...meta } as TestPage['meta'], data: page.data };
}

t.test('lookups with bad keys, too many keys or a bad namespace', async (t) => {
  const cases: [string, object, string][] = [
    ['an empty key', { namespace: NS, keys: [Buffer.alloc(0)] }, 'KVC_INVALID_KEY'],
    ['a 7-byte key', { namespace: NS, keys: [pageKey(1), Buffer.alloc(7)] }, 'KVC_INVALID_KEY'],
    ['a 65-byte key', { namespace: NS, keys: [Buffer.alloc(65)] }, 'KVC_INVALID_KEY'],
    ['10,000 keys', { namespace: NS, keys: Array.from({ length: 10_000 }, (_, i) => pageKey(i)) }, 'KVC_TOO_MANY_KEYS'],
    ['an empty namespace', { namespace: '', keys: [pageKey(1)] }, 'KVC_INVALID_NAMESPACE'],
    ['a namespace with a space', { namespace: 'a b', keys: [pageKey(1)] }, 'KVC_INVALID_NAMESPACE'],
    ['a non-ASCII namespace', { namespace: 'modèle', keys: [pageKey(1)] }, 'KVC_INVALID_NAMESPACE'],
    ['a 129-character namespace', { namespace: 'n'.repeat(129), keys: [pageKey(1)] }, 'KVC_INVALID_NAMESPACE'],
    ['a 7-byte key in a batched prompt', { namespace: NS, keys: [pageKey(1)], morePrompts: [{ keys: [pageKey(2)] }, { keys: [Buffer.alloc(7)] }] }, 'KVC_INVALID_KEY'],
    ['8,193 keys over the prompts of a batch', { namespace: NS, keys: [pageKey(1)], morePrompts: [{ keys: Array.from({ length: LIMITS.page.keysPerRequestMax }, (_, i) => pageKey(i)) }] }, 'KVC_TOO_MANY_KEYS'],
  ];
  for (const [what, request, code] of cases) {
    const error = await client.unary('cache', 'Lookup', request).catch((e: CallError) => e);
    t.equal((error as CallError).code, grpc.status.INVALID_ARGUMENT, `${what}: INVALID_ARGUMENT`);
    t.equal((error as CallError).kvcCode, code, `${what}: ${code}`);
  }
  const ok = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: 'n'.repeat(128), keys: Array.from({ length: LIMITS.page.keysPerRequestMax }, (_, i) => pageKey(i)) });
  t.equal(ok.matched, 0, 'the limits themselves are accepted');
  const stored = u8Page(probe++, 4096, 4);
  t.equal((await putPages(client, [stored])).results[0]!.code, '');
  const batch = await client.unary<LookupResponse>('cache', 'Lookup', {
    namespace: NS,
    keys: [pageKey(999_999)],
    morePrompts: [{ keys: [stored.meta.key, pageKey(999_998)] }, { keys: [] }, { keys: [stored.meta.key] }],
  });
  t.same([batch.matched, batch.moreMatched], [0, [1, 0, 1]], 'a batch of prompts is answered prompt by prompt');
  for (const name of ['GetPages', 'DeletePages', 'PinPages', 'UnpinPages']) {
    const request = { namespace: NS, keys: [Buffer.alloc(3)] };
    const error = name === 'GetPages' ? (await client.serverStream('cache', name, request)).error : await client.unary('cache', name, request).catch((e: CallError) => e);
    t.equal((error as CallError).kvcCode, 'KVC_INVALID_KEY', `${name} checks keys too`);
  }
  await assertServing(t);
});

t.test('puts with bad page metadata', async (t) => {
  const page = u8Page(1, 4096, 4);
  const oversized = 33 * MIB;
  const cases: [string, TestPage, number, string][] = [
    ['an empty key', withMeta(page, { key: new Uint8Array(0) }), grpc.status.INVALID_ARGUMENT, 'KVC_INVALID_KEY'],
    ['a 65-byte key', withMeta(page, { key: new Uint8Array(65) }), grpc.status.INVALID_ARGUMENT, 'KVC_INVALID_KEY'],
    ['a 3-byte parent key', withMeta(page, { parentKey: new Uint8Array(3) }), grpc.status.INVALID_ARGUMENT, 'KVC_INVALID_KEY'],
    ['dtype unspecified', withMeta(page, { dtype: 'DTYPE_UNSPECIFIED' }), grpc.status.INVALID_ARGUMENT, 'KVC_UNKNOWN_DTYPE'],
    ['a dtype number the schema does not name', withMeta(page, { dtype: 99 as unknown as 'FP16' }), grpc.status.INVALID_ARGUMENT, 'KVC_UNKNOWN_DTYPE'],
    ['store_dtype fp32 from u8', withMeta(page, { storeDtype: 'FP32' }), grpc.status.INVALID_ARGUMENT, 'KVC_UNKNOWN_DTYPE'],
    ['shape × dtype ≠ bytes', withMeta(page, { dtype: 'FP16' }), grpc.status.INVALID_ARGUMENT, 'KVC_SHAPE_MISMATCH'],
    ['an empty shape', withMeta(page, { shape: [] }), grpc.status.INVALID_ARGUMENT, 'KVC_SHAPE_MISMATCH'],
    ['a zero dimension', withMeta(page, { shape: [0, 4096] }), grpc.status.INVALID_ARGUMENT, 'KVC_SHAPE_MISMATCH'],
    ['a page over the size limit', withMeta(page, { bytes: oversized, shape: [33, MIB] }), grpc.status.RESOURCE_EXHAUSTED, 'KVC_PAGE_TOO_LARGE'],
    ['a bad checksum', withMeta(page, { crc32c: (page.meta.crc32c + 1) >>> 0 }), grpc.status.DATA_LOSS, 'KVC_CHECKSUM_MISMATCH'],
    ['a bad namespace', withMeta(page, { namespace: 'no spaces allowed' }), grpc.status.INVALID_ARGUMENT, 'KVC_INVALID_NAMESPACE'],
  ];
  for (const [what, bad, status, code] of cases) {
    const error = await putError([bad]);
    t.equal(error.code, status, `${what}: ${grpc.status[status]}`);
    t.equal(error.kvcCode, code, `${what}: ${code}`);
  }
  const tooMany = await client.unary('cache', 'PinPages', { namespace: NS, keys: Array.from({ length: 10_000 }, (_, i) => pageKey(i)), ttlMs: 1 }).catch((e: CallError) => e);
  t.equal((tooMany as CallError).kvcCode, 'KVC_TOO_MANY_KEYS');
  await assertServing(t);
});

t.test('put streams that break the framing', async (t) => {
  const page = u8Page(2, 3 * 4096, 3);
  const messages = pageMessages(page, 4096);
  const midPage = await putError(messages.slice(0, 2), true);
  t.equal(midPage.kvcCode, 'KVC_INCOMPLETE_PAGE', 'a stream that ends mid-page');
  t.equal(midPage.code, grpc.status.INVALID_ARGUMENT);
  const nextBegins = await putError([...messages.slice(0, 2), ...pageMessages(u8Page(3, 64))], true);
  t.equal(nextBegins.kvcCode, 'KVC_INCOMPLETE_PAGE', 'a page that begins before the previous one ended');
  const shortLast = await putError([messages[0]!, { ...messages[1]!, last: true }], true);
  t.equal(shortLast.kvcCode, 'KVC_INCOMPLETE_PAGE', 'a last message before all bytes came');
  const extra = await putError([...messages.slice(0, 2), { meta: null, data: Buffer.alloc(8192), last: true }], true);
  t.equal(extra.kvcCode, 'KVC_SHAPE_MISMATCH', 'more bytes than the meta declares');
  const orphan = await putError([{ meta: null, data: Buffer.alloc(16), last: true }], true);
  t.equal(orphan.kvcCode, 'KVC_CODEC', 'data before any meta');
  const lookup = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(2)] });
  t.equal(lookup.matched, 0, 'no incomplete page was stored');

  const big = new RawClient(leader.address);
  t.teardown(() => big.close());
  // A channel that lets the client send more than the 4 MiB message limit of the Cache service.
  const wide = new grpc.Client(leader.address, grpc.credentials.createInsecure(), peerChannelOptions());
  t.teardown(() => wide.close());
  const method = loadProtos().cache.PutPages!;
  const hugeMessage = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = wide.makeClientStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, (error) => resolve(error));
    const data = new Uint8Array(5 * MIB);
    call.write({ meta: { ...u8Page(4, 5 * MIB).meta, crc32c: crc32c(data) }, data, last: true });
    call.end();
  });
  t.equal(hugeMessage?.metadata.get('kvc-code')[0], 'KVC_PAGE_TOO_LARGE', 'a message over 4 MiB is refused');
  await assertServing(t);
});

t.test('a client that disconnects mid-stream leaves nothing half-stored', async (t) => {
  const whole = u8Page(5, 8192, 2);
  const half = u8Page(6, 2 * MIB, 2);
  const { call, response } = client.clientStream<PutPagesRequest, PutPagesResponse>('cache', 'PutPages');
  for (const message of pageMessages(whole)) call.write(message);
  call.write(pageMessages(half, 512 * 1024)[0]!);
  await sleep(100);
  call.cancel();
  const error = await response.catch((e: CallError) => e);
  t.equal((error as CallError).code, grpc.status.CANCELLED, 'the client sees its own cancellation');
  await eventually(async () => (await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [whole.meta.key] })).matched === 1, 5_000, 'the finished page');
  const { messages } = await client.serverStream<{ data: Buffer }>('cache', 'GetPages', { namespace: NS, keys: [whole.meta.key] });
  t.ok(Buffer.concat(messages.map((m) => m.data)).equals(whole.data), 'the page finished before the disconnect is stored whole');
  await sleep(100);
  const lookup = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [half.meta.key] });
  t.equal(lookup.matched, 0, 'the page cut off mid-stream is not stored');

  // A client whose connection drops mid-page (no cancellation, the socket just closes).
  const method = loadProtos().cache.PutPages!;
  const [host, port] = [leader.address.split(':')[0]!, Number(leader.address.split(':')[1])];
  const socket = net.connect(port, host);
  const session = http2.connect(`http://${leader.address}`, { createConnection: () => socket });
  session.on('error', () => undefined);
  const request = session.request({ ':method': 'POST', ':path': method.path, 'content-type': 'application/grpc', te: 'trailers' });
  request.on('error', () => undefined);
  const body = method.requestSerialize(pageMessages(u8Page(7, 2 * MIB), 512 * 1024)[0]!);
  const frame = Buffer.alloc(5);
  frame.writeUInt32BE(body.byteLength, 1);
  request.write(Buffer.concat([frame, body]));
  await sleep(100);
  socket.destroy();
  await sleep(100);
  await assertServing(t);
  t.equal((await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(7)] })).matched, 0, 'nothing of it was stored');
});

t.test('malformed admin requests and unknown members', async (t) => {
  const cases: [string, string, object, string][] = [
    ['member id 0', 'AddMember', { id: 0, address: '127.0.0.1:1' }, 'KVC_CODEC'],
    ['an address without a port', 'AddMember', { id: 9, address: 'localhost' }, 'KVC_CODEC'],
    ['port 0', 'AddMember', { id: 9, address: 'localhost:0' }, 'KVC_CODEC'],
    ['transfer to a non-member', 'TransferLeader', { targetId: 42 }, 'KVC_CODEC'],
    ['drop a bad namespace', 'DropNamespace', { namespace: '' }, 'KVC_INVALID_NAMESPACE'],
  ];
  for (const [what, method, request, code] of cases) {
    const error = await client.unary('admin', method, request).catch((e: CallError) => e);
    t.equal((error as CallError).kvcCode, code, `${what}: ${code}`);
  }
  await client.unary('admin', 'RemoveMember', { id: 42 });
  t.pass('removing a member that is not there is a no-op');
  const self = await client.unary<{ leaderId: number }>('admin', 'TransferLeader', { targetId: leader.id });
  t.equal(self.leaderId, leader.id, 'transferring to the leader itself is a no-op');
  await assertServing(t);
});

t.test('garbage on the peer port', async (t) => {
  const [host, port] = [leader.address.split(':')[0]!, Number(leader.address.split(':')[1])];
  // Raw TCP: random bytes, and an HTTP/2 preface followed by junk frames.
  const preface = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
  for (const junk of [randomBytes(64 * 1024), Buffer.concat([preface, randomBytes(4096)]), Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')]) {
    await new Promise<void>((resolve) => {
      const socket = net.connect(port, host, () => socket.end(junk));
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
      // The server closes such connections at once; the timer only bounds the test if it did not.
      setTimeout(() => socket.destroy(), 5_000).unref();
    });
  }
  // A gRPC frame that announces a 1 GiB message on the Raft stream, then the connection drops.
  const session = http2.connect(`http://${leader.address}`);
  session.on('error', () => undefined);
  const huge = session.request({ ':method': 'POST', ':path': loadProtos().peer.Raft!.path, 'content-type': 'application/grpc', te: 'trailers' });
  huge.on('error', () => undefined);
  const status = new Promise<string | undefined>((resolve) => {
    // A trailers-only answer carries the status in the response headers.
    huge.on('response', (headers) => resolve(headers['grpc-status'] === undefined ? undefined : String(headers['grpc-status'])));
    huge.on('trailers', (trailers) => resolve(String(trailers['grpc-status'])));
    huge.on('close', () => resolve(undefined));
  });
  huge.write(Buffer.from([0, 0x40, 0, 0, 0, 1, 2, 3]));
  t.equal(await status, String(grpc.status.RESOURCE_EXHAUSTED), 'a frame over the message limit is refused');
  session.destroy();

  const peer = new grpc.Client(leader.address, grpc.credentials.createInsecure(), peerChannelOptions());
  t.teardown(() => peer.close());
  const raft = loadProtos().peer.Raft!;
  const rejectedBefore = leader.transport.counters.rejected;
  const other = [...cluster.members.keys()].find((id) => id !== leader.id)!;
  const message = (m: Partial<Message>): Uint8Array =>
    encodeMessage({ type: MessageType.Heartbeat, to: leader.id, from: other, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m });
  const junkMessages = [
    randomBytes(100),
    Buffer.alloc(0),
    message({ type: MessageType.Hup }),
    message({ type: MessageType.Snap }),
    message({ to: 77 }),
    message({ from: 0 }),
    message({ from: 55 }),
  ];
  const answer = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = peer.makeClientStreamRequest(raft.path, raft.requestSerialize, raft.responseDeserialize, (error) => resolve(error));
    call.write({ from: other, to: leader.id, messages: junkMessages, fromAddress: '' });
    call.end();
  });
  t.equal(answer, null, 'a Raft stream of junk is answered normally');
  t.equal(leader.transport.counters.rejected - rejectedBefore, junkMessages.length, 'every junk message was dropped and counted');

  // Valid gRPC framing around bytes that are not protobuf at all.
  const junkProto = await new Promise<grpc.ServiceError | null>((resolve) => {
    const call = peer.makeClientStreamRequest(raft.path, () => Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), raft.responseDeserialize, (error) => resolve(error));
    call.write({});
    call.end();
  });
  t.equal(junkProto?.code, grpc.status.INVALID_ARGUMENT, 'junk protobuf is refused as INVALID_ARGUMENT');
  t.equal(junkProto?.metadata.get('kvc-code')[0], 'KVC_MALFORMED_REQUEST', 'with its code');

  const snapshot = loadProtos().peer.Snapshot!;
  const snapshotCall = (parts: object[]): Promise<grpc.ServiceError | null> =>
    new Promise((resolve) => {
      const call = peer.makeClientStreamRequest(snapshot.path, snapshot.requestSerialize, snapshot.responseDeserialize, (error) => resolve(error));
      for (const part of parts) call.write(part);
      call.end();
    });
  t.equal((await snapshotCall([]))?.metadata.get('kvc-code')[0], 'KVC_SNAPSHOT_INVALID', 'an empty snapshot stream');
  t.equal((await snapshotCall([{ message: randomBytes(40), seq: 0, data: randomBytes(10), last: true }]))?.metadata.get('kvc-code')[0], 'KVC_CODEC', 'a snapshot stream led by junk');
  t.equal((await snapshotCall([{ message: message({ type: MessageType.Heartbeat }), seq: 0, data: Buffer.alloc(0), last: true }]))?.metadata.get('kvc-code')[0], 'KVC_SNAPSHOT_INVALID', 'a snapshot stream led by a non-snapshot message');
  await assertServing(t);
});

t.test('an admin token guards the admin service', async (t) => {
  const secured = await startCluster([1], { adminToken: 's3cret' });
  t.teardown(() => secured.stopAll());
  const member = await secured.leader();
  const admin = new RawClient(member.address);
  t.teardown(() => admin.close());
  const none = await admin.unary('admin', 'Status', {}).catch((e: CallError) => e);
  t.equal((none as CallError).code, grpc.status.UNAUTHENTICATED);
  t.equal((none as CallError).kvcCode, 'KVC_UNAUTHENTICATED');
  const wrong = new grpc.Metadata();
  wrong.set('authorization', 'Bearer guess');
  t.equal(((await admin.unary('admin', 'Status', {}, wrong).catch((e: CallError) => e)) as CallError).kvcCode, 'KVC_UNAUTHENTICATED', 'a wrong token');
  const right = new grpc.Metadata();
  right.set('authorization', 'Bearer s3cret');
  const st = await admin.unary<{ id: number }>('admin', 'Status', {}, right);
  t.equal(st.id, 1, 'the right token is accepted');
  const config = JSON.parse((await admin.unary<{ json: string }>('admin', 'GetConfig', {}, right)).json) as Record<string, unknown>;
  t.equal(config.adminTokenSet, true);
  t.notOk(JSON.stringify(config).includes('s3cret'), 'GetConfig never shows the token');
  const lookup = await admin.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [] });
  t.equal(lookup.matched, 0, 'the cache service needs no token');
});
