// Proves the gRPC services of a real 3-member cluster started with startMember on 127.0.0.1 (real
// WALs and LevelDBs in a temp dir, real gRPC over loopback, raw gRPC clients): pages put through
// the leader are read back identical from every member; GetPages streams chunks of at most 1 MiB,
// serves a layer range and fp32 from a stored fp16 page; a put may store fp16 from fp32; a
// follower refuses writes with UNAVAILABLE and the leader's address in `kvcache-leader`; a
// linearizable Lookup works on a follower; delete, pin and unpin go through the log; the admin
// calls report and change the cluster; health says SERVING and reflection lists the services.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c, fp16ToFp32, fp32ToFp16 } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import type { GetPagesResponse__Output as GetPagesResponse, LookupResponse__Output as LookupResponse, StatusResponse__Output as StatusResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, pageKey, putPages, startCluster, u8Page, type CallError, type TestPage } from './helpers.js';

const MIB = 1024 * 1024;

const cluster = await startCluster([1, 2, 3]);
t.teardown(() => cluster.stopAll());
const leader = await cluster.leader();
const clients = new Map([...cluster.members.values()].map((m) => [m.id, new RawClient(m.address)]));
t.teardown(() => clients.forEach((c) => c.close()));
const leaderClient = clients.get(leader.id)!;
const followerIds = () => cluster.followers().map((m) => m.id);

/** Reassembles GetPages chunks into pages, checking offsets are contiguous. */
function assemble(messages: GetPagesResponse[]): { meta: NonNullable<GetPagesResponse['meta']>; data: Buffer }[] {
  const pages: { meta: NonNullable<GetPagesResponse['meta']>; data: Buffer }[] = [];
  let parts: Buffer[] = [];
  let meta: GetPagesResponse['meta'] = null;
  for (const m of messages) {
    if (m.meta) meta = m.meta;
    if (m.offset !== parts.reduce((n, p) => n + p.byteLength, 0)) throw new Error(`gap at offset ${m.offset}`);
    parts.push(Buffer.from(m.data));
    if (m.last) {
      pages.push({ meta: meta!, data: Buffer.concat(parts) });
      parts = [];
      meta = null;
    }
  }
  return pages;
}

function waitApplied(index: number): Promise<void> {
  return eventually(() => [...cluster.members.values()].every((m) => m.node.status().appliedIndex >= index), 5_000, `every member to apply ${index}`);
}

t.test('health says SERVING and reflection lists the services', async (t) => {
  const client = new RawClient(leader.address);
  t.teardown(() => client.close());
  const health = await new Promise<{ status: string }>((resolve, reject) => {
    client.client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0),
      (bytes: Buffer) => ({ status: bytes[1] === 1 ? 'SERVING' : `status byte ${bytes[1]}` }),
      {},
      (error, response) => (error ? reject(error) : resolve(response!)),
    );
  });
  t.equal(health.status, 'SERVING', 'the whole server is SERVING');
  const services = await listServicesByReflection(leader.address);
  for (const name of ['kvcache.v1.CacheService', 'kvcache.v1.AdminService', 'kvcache.v1.PeerService', 'grpc.health.v1.Health']) {
    t.ok(services.includes(name), `reflection lists ${name}`);
  }
});

t.test('pages put through the leader are identical on every member, chunked at most 1 MiB', async (t) => {
  const pages = [u8Page(1, 2.5 * MIB, 5), u8Page(2, 4096, 4), u8Page(3, 777, 1)];
  const response = await putPages(leaderClient, pages, 512 * 1024);
  t.same(response.results.map((r) => r.code), ['', '', ''], 'every page stored');
  t.same(response.results.map((r) => Buffer.from(r.key).toString('hex')), pages.map((p) => Buffer.from(p.meta.key).toString('hex')), 'results in page order');
  await waitApplied(leader.node.status().appliedIndex);
  for (const [id, client] of clients) {
    const { messages, error } = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: pages.map((p) => p.meta.key) });
    t.equal(error, undefined, `member ${id} streams without error`);
    t.ok(messages.every((m) => m.data.byteLength <= LIMITS.page.chunkBytes), `member ${id}: every chunk is at most 1 MiB`);
    t.equal(messages.length, 3 + 1 + 1, `member ${id}: the 2.5 MiB page takes 3 chunks`);
    const got = assemble(messages);
    t.equal(got.length, 3);
    got.forEach((page, i) => {
      t.ok(page.data.equals(pages[i]!.data), `member ${id}: page ${i} has identical bytes`);
      t.equal(page.meta.crc32c, pages[i]!.meta.crc32c, `member ${id}: page ${i} carries its crc32c`);
      t.ok(page.meta.createdAtMs! > Date.now() - 60_000, 'createdAtMs is the leader clock');
    });
    const lookup = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(1), pageKey(2), pageKey(3), pageKey(4), pageKey(1)] });
    t.equal(lookup.matched, 3, `member ${id}: lookup matches the stored prefix`);
  }
  const again = await putPages(leaderClient, [pages[0]!]);
  t.equal(again.results[0]!.code, '', 'putting the same page again is an idempotent success');
  const different = await putPages(leaderClient, [{ ...u8Page(99, 4096, 4), meta: { ...u8Page(99, 4096, 4).meta, key: pageKey(2) } }]);
  t.equal(different.results[0]!.code, 'KVC_EXISTS_DIFFERENT', 'another payload under a stored key is refused per page');
});

t.test('GetPages serves a layer range and fp32 from a stored fp16 page; a put stores fp16 from fp32', async (t) => {
  const layers = 4;
  const perLayer = 1024;
  const fp32 = Float32Array.from({ length: layers * perLayer }, (_, i) => (i % 97) / 7 - 3);
  const fp16 = fp32ToFp16(fp32);
  const fp16Bytes = new Uint8Array(fp16.buffer);
  const page: TestPage = {
    meta: { namespace: NS, key: pageKey(10), dtype: 'FP16', shape: [layers, perLayer], tokens: 16, bytes: fp16Bytes.byteLength, crc32c: crc32c(fp16Bytes) },
    data: fp16Bytes,
  };
  const fp32Bytes = new Uint8Array(fp32.buffer);
  const converted: TestPage = {
    meta: { namespace: NS, key: pageKey(11), dtype: 'FP32', storeDtype: 'FP16', shape: [layers, perLayer], tokens: 16, bytes: fp32Bytes.byteLength, crc32c: crc32c(fp32Bytes) },
    data: fp32Bytes,
  };
  const put = await putPages(leaderClient, [page, converted]);
  t.same(put.results.map((r) => r.code), ['', '']);
  await waitApplied(leader.node.status().appliedIndex);
  const client = clients.get(followerIds()[0]!)!;

  const range = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(10)], layerBegin: 1, layerEnd: 3 });
  const [sliced] = assemble(range.messages);
  t.ok(sliced!.data.equals(fp16Bytes.subarray(1 * perLayer * 2, 3 * perLayer * 2)), 'layers [1, 3) are the contiguous byte range');
  t.same(sliced!.meta.shape, [2, perLayer], 'the meta describes the slice');
  t.equal(sliced!.meta.crc32c, crc32c(sliced!.data), 'and its crc32c');

  const wide = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(10)], asDtype: 'FP32' });
  const [asFp32] = assemble(wide.messages);
  t.equal(asFp32!.meta.dtype, 'FP32');
  t.equal(asFp32!.meta.bytes, fp16Bytes.byteLength * 2, 'fp32 is twice the bytes');
  t.ok(asFp32!.data.equals(Buffer.from(fp16ToFp32(fp16).buffer)), 'values are the exact fp16 -> fp32 widening');
  t.equal(asFp32!.meta.crc32c, crc32c(asFp32!.data));

  const stored = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(11)] });
  const [narrowed] = assemble(stored.messages);
  t.equal(narrowed!.meta.dtype, 'FP16', 'store_dtype FP16 stored the page as fp16');
  t.ok(narrowed!.data.equals(fp16Bytes), 'with the codec rounding');

  const outside = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(10)], layerBegin: 2, layerEnd: 9 });
  t.equal(outside.error?.kvcCode, 'KVC_SHAPE_MISMATCH', 'a layer range past the last layer is refused');
  const empty = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(10)], layerBegin: 2, layerEnd: 2 });
  t.equal(empty.error?.code, grpc.status.INVALID_ARGUMENT, 'an empty layer range is refused');
  const u8 = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(1)], asDtype: 'FP32' });
  t.equal(u8.error?.kvcCode, 'KVC_UNKNOWN_DTYPE', 'a u8 page cannot be returned as fp32');
  const missing = await client.serverStream<GetPagesResponse>('cache', 'GetPages', { namespace: NS, keys: [pageKey(10), pageKey(404)] });
  t.equal(missing.error?.code, grpc.status.NOT_FOUND, 'the stream ends NOT_FOUND at the first missing key');
  t.equal(missing.error?.kvcCode, 'KVC_NOT_FOUND');
  t.equal(assemble(missing.messages).length, 1, 'after the pages before it');
});

t.test('a follower refuses writes with UNAVAILABLE and the leader address; it serves linearizable lookups', async (t) => {
  const follower = clients.get(followerIds()[0]!)!;
  const refused = await putPages(follower, [u8Page(20, 100)]).catch((error: CallError) => error);
  t.equal((refused as CallError).code, grpc.status.UNAVAILABLE);
  t.equal((refused as CallError).kvcCode, 'KVC_NOT_LEADER');
  t.equal((refused as CallError).leader, leader.address, 'kvcache-leader names the leader');
  for (const name of ['DeletePages', 'UnpinPages']) {
    const error = await follower.unary('cache', name, { namespace: NS, keys: [pageKey(1)] }).catch((e: CallError) => e);
    t.equal((error as CallError).leader, leader.address, `${name} on a follower names the leader`);
  }
  const lookup = await follower.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(1), pageKey(2)], linearizable: true });
  t.equal(lookup.matched, 2, 'a linearizable lookup on a follower sees committed pages');
  t.ok(lookup.appliedIndex >= 1);
});

t.test('delete, pin and unpin go through the log', async (t) => {
  await putPages(leaderClient, [u8Page(30, 64), u8Page(31, 64)]);
  const tooLong = await leaderClient.unary('cache', 'PinPages', { namespace: NS, keys: [pageKey(30)], ttlMs: 10 * 60 * 60 * 1000 }).catch((e: CallError) => e);
  t.equal((tooLong as CallError).kvcCode, 'KVC_INVALID_ARGUMENT', 'a pin over one hour is refused');
  await leaderClient.unary('cache', 'PinPages', { namespace: NS, keys: [pageKey(30)], ttlMs: 60 * 60 * 1000 });
  const pins = await leader.node.store.pinExpiries(NS, [pageKey(30)]);
  t.ok(pins[0]! <= Date.now() + 60 * 60 * 1000 + 1000, 'a pin lasts at most one hour');
  await leaderClient.unary('cache', 'UnpinPages', { namespace: NS, keys: [pageKey(30)] });
  t.same(await leader.node.store.pinExpiries(NS, [pageKey(30)]), [undefined], 'unpinned');
  await leaderClient.unary('cache', 'DeletePages', { namespace: NS, keys: [pageKey(30)] });
  const lookup = await leaderClient.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [pageKey(30)] });
  t.equal(lookup.matched, 0, 'deleted');
});

t.test('admin: status, config, snapshot, drop namespace, transfer leadership', async (t) => {
  const statuses = await Promise.all([...clients.values()].map((c) => c.unary<StatusResponse>('admin', 'Status', {})));
  for (const st of statuses) {
    t.equal(st.leaderId, leader.id, `member ${st.id} knows the leader`);
    t.equal(st.leaderAddress, leader.address);
    t.equal(st.pid, process.pid);
    t.same(st.members.map((m) => [m.id, m.address]), [1, 2, 3].map((id) => [id, cluster.addresses.get(id)]), 'members with addresses');
  }
  t.same(statuses.map((s) => s.role).sort(), ['follower', 'follower', 'leader']);
  const config = await leaderClient.unary<{ json: string }>('admin', 'GetConfig', {});
  const parsed = JSON.parse(config.json) as { id: number; limits: { page: { bytesMax: number } }; adminTokenSet: boolean };
  t.equal(parsed.id, leader.id);
  t.equal(parsed.limits.page.bytesMax, LIMITS.page.bytesMax);
  const snapshot = await leaderClient.unary<{ walFirstIndex: number }>('admin', 'Snapshot', {});
  t.ok(snapshot.walFirstIndex >= 1, 'snapshot answers the WAL first index');

  await putPages(leaderClient, [u8Page(40, 64, 1, 'other-ns')]);
  await leaderClient.unary('admin', 'DropNamespace', { namespace: 'other-ns' });
  const gone = await leaderClient.unary<LookupResponse>('cache', 'Lookup', { namespace: 'other-ns', keys: [pageKey(40)] });
  t.equal(gone.matched, 0, 'the namespace was dropped');

  const target = followerIds()[0]!;
  const moved = await leaderClient.unary<{ leaderId: number }>('admin', 'TransferLeader', { targetId: target });
  t.equal(moved.leaderId, target);
  t.equal((await cluster.leader()).id, target, 'leadership moved');
  const stale = await leaderClient.unary('admin', 'Snapshot', {}).catch((e: CallError) => e);
  t.equal((stale as CallError).kvcCode, 'KVC_NOT_LEADER', 'the old leader now refuses leader-only admin calls');
  t.equal((stale as CallError).leader, cluster.addresses.get(target));
  const after = await putPages(clients.get(target)!, [u8Page(41, 64)]);
  t.equal(after.results[0]!.code, '', 'the new leader takes writes');
});

/** Lists services with the grpc.reflection.v1 ServerReflectionInfo stream (hand-encoded protobuf). */
async function listServicesByReflection(address: string): Promise<string[]> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const call = client.makeBidiStreamRequest(
      '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
      (value: Buffer) => value,
      (bytes: Buffer) => bytes,
    );
    // ServerReflectionRequest { list_services = 7: "*" }
    call.write(Buffer.from([0x3a, 0x01, 0x2a]));
    call.end();
    const names: string[] = [];
    for await (const response of call as AsyncIterable<Buffer>) {
      // The service names are the printable runs of the response; good enough to find them.
      for (const match of response.toString('latin1').matchAll(/[A-Za-z0-9_.]+\.[A-Za-z0-9_]+/g)) names.push(match[0]);
    }
    return names;
  } finally {
    client.close();
  }
}

t.test('stop is idempotent and leaves the port closed', async (t) => {
  const follower = cluster.followers()[0]!;
  await follower.stop();
  await follower.stop();
  const client = clients.get(follower.id)!;
  const error = await client.unary('admin', 'Status', {}, new grpc.Metadata(), 1_000).catch((e: CallError) => e);
  t.equal((error as CallError).code !== undefined, true, 'a stopped member does not answer');
  const still = await putPages(clients.get((await cluster.leader()).id)!, [u8Page(50, 64)]);
  t.equal(still.results[0]!.code, '', 'the two remaining members still commit');
});

