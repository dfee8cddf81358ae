// Proves GetPages through the memory tier (src/rpc/get-pages.ts) with a real member on 127.0.0.1
// and real gRPC streams: the first read of a page is a miss (promoted), the second a hit, both
// with the bytes that were put, and Status counts them (memory_tier hits, misses, hit ratio,
// cached pages, arena bytes) and reports the native addon; layer ranges and as_dtype conversions
// work from the arena; a bad layer range is refused; every lease is released when a stream ends,
// fails or is cancelled (leases_held back to 0); and a member started with arenaBytes 0 serves
// every read from LevelDB.
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c, fp16ToFp32 } from '../../src/codec/index.js';
import type { GetPagesResponse__Output as GetPagesResponse, StatusResponse__Output as StatusResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, pageBytes, pageKey, putPages, startCluster, u8Page, type CallError, type TestPage } from './helpers.js';

const MIB = 1024 * 1024;

async function getAll(client: RawClient, request: object): Promise<{ pages: { meta: GetPagesResponse['meta']; data: Buffer }[]; error?: CallError }> {
  const { messages, error } = await client.serverStream<GetPagesResponse>('cache', 'GetPages', request);
  const pages: { meta: GetPagesResponse['meta']; data: Buffer }[] = [];
  let parts: Buffer[] = [];
  let meta: GetPagesResponse['meta'] = null;
  for (const m of messages) {
    if (m.meta) meta = m.meta;
    parts.push(Buffer.from(m.data));
    if (m.last) {
      pages.push({ meta, data: Buffer.concat(parts) });
      parts = [];
    }
  }
  return error === undefined ? { pages } : { pages, error };
}

/** An fp16 page of `layers` layers. */
function fp16Page(i: number, bytes: number, layers: number): TestPage {
  const data = pageBytes(i, bytes);
  // Keep the values finite: clear each fp16's exponent top bit, so no NaN or Inf.
  for (let k = 1; k < bytes; k += 2) data[k]! &= 0xbf;
  return { meta: { namespace: NS, key: pageKey(i), dtype: 'FP16', shape: [layers, bytes / 2 / layers], tokens: 16, bytes, crc32c: crc32c(data) }, data };
}

t.test('GetPages twice: a miss then a hit, same bytes, counted in Status', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());

  const pages = [u8Page(1, 2 * MIB, 4), u8Page(2, 3 * MIB + 5, 1), fp16Page(3, MIB, 8)];
  const put = await putPages(client, pages);
  t.same(put.results.map((r) => r.code), ['', '', '']);
  const keys = pages.map((p) => p.meta.key);

  const first = await getAll(client, { namespace: NS, keys });
  const second = await getAll(client, { namespace: NS, keys });
  for (const [i, page] of pages.entries()) {
    t.ok(first.pages[i]!.data.equals(page.data), `page ${i + 1}: the miss returns the bytes put`);
    t.ok(second.pages[i]!.data.equals(page.data), `page ${i + 1}: the hit returns the same bytes`);
    t.equal(second.pages[i]!.meta?.crc32c, page.meta.crc32c, `page ${i + 1}: and its checksum`);
  }
  const status = await client.unary<StatusResponse>('admin', 'Status', {});
  t.match(status.memoryTier, { hits: 3, misses: 3, hitRatio: 0.5, cachedPages: 3, leasesHeld: 0, arenaBytes: 32 * MIB }, 'Status: 3 misses, then 3 hits');
  t.ok(status.memoryTier!.usedBytes >= 6 * MIB, 'the arena holds the pages');
  t.equal(status.native?.loaded, process.env.KVC_NATIVE !== '0', 'Status says whether the addon is loaded');
  if (process.env.KVC_NATIVE === '0') t.match(status.native?.reason, /KVC_NATIVE=0/);

  // A layer range is a view of the cached bytes; a conversion makes new ones.
  const layers = await getAll(client, { namespace: NS, keys: [keys[0]], layerBegin: 1, layerEnd: 3 });
  t.ok(layers.pages[0]!.data.equals(Buffer.from(pages[0]!.data.subarray(MIB / 2, 3 * MIB / 2))), 'layers [1, 3) of a cached page');
  t.same(layers.pages[0]!.meta?.shape, [2, MIB / 2]);
  const asFp32 = await getAll(client, { namespace: NS, keys: [keys[2]], asDtype: 'FP32' });
  const expected = fp16ToFp32(new Uint16Array(pages[2]!.data.buffer, pages[2]!.data.byteOffset, MIB / 2));
  t.ok(asFp32.pages[0]!.data.equals(Buffer.from(expected.buffer)), 'as fp32 from the cached fp16 page');
  t.equal(asFp32.pages[0]!.meta?.crc32c, crc32c(new Uint8Array(expected.buffer)), 'with the checksum of what travels');

  // A layer range outside the page fails after the page was leased; the lease is released.
  const outside = await getAll(client, { namespace: NS, keys: [keys[0]], layerBegin: 2, layerEnd: 9 });
  t.equal(outside.error?.kvcCode, 'KVC_SHAPE_MISMATCH', 'a layer range outside the page');

  // A stream that fails on a missing key releases what it leased before.
  const missing = await getAll(client, { namespace: NS, keys: [keys[0], pageKey(99)] });
  t.equal(missing.error?.kvcCode, 'KVC_NOT_FOUND');
  t.ok(missing.pages[0]?.data.equals(pages[0]!.data), 'the page before the missing one arrived whole');
  await eventually(() => member.node.memoryTierStats().leasesHeld === 0, 2_000, 'every lease to be released');
  const last = (await client.unary<StatusResponse>('admin', 'Status', {})).memoryTier!;
  t.equal(last.hits, 7, 'layers, conversion and the failed streams read from the arena');
});

t.test('a cancelled stream releases its leases; the member serves on', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());
  // 24 MiB in 3 MiB pages: more than the HTTP/2 windows take, so the server's writes back up.
  const pages = Array.from({ length: 8 }, (_, i) => u8Page(i, 3 * MIB, 3));
  await putPages(client, pages);
  const keys = pages.map((p) => p.meta.key);
  await getAll(client, { namespace: NS, keys }); // promote them all
  const method = RawClient.method('cache', 'GetPages');
  const call = client.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: NS, keys }, new grpc.Metadata(), {});
  call.on('error', () => undefined);
  await new Promise<void>((resolve) => call.once('data', () => resolve()));
  call.pause();
  await eventually(() => member.node.memoryTierStats().leasesHeld > 0, 2_000, 'the stalled stream to hold a lease');
  call.cancel();
  await eventually(() => member.node.memoryTierStats().leasesHeld === 0, 2_000, 'the cancelled stream to release its leases');
  const again = await getAll(client, { namespace: NS, keys });
  t.ok(again.pages.every((p, i) => p.data.equals(pages[i]!.data)), 'every page still reads back whole');
  t.ok(member.node.memoryTierStats().hits >= keys.length + 1, 'from the arena (and the cancelled stream read from it too)');
});

t.test('arenaBytes 0: every read comes from LevelDB', async (t) => {
  const cluster = await startCluster([1], { memoryTier: { arenaBytes: 0 } });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());
  const page = u8Page(1, MIB);
  await putPages(client, [page]);
  for (let i = 0; i < 2; i++) t.ok((await getAll(client, { namespace: NS, keys: [page.meta.key] })).pages[0]!.data.equals(page.data));
  const status = await client.unary<StatusResponse>('admin', 'Status', {});
  t.match(status.memoryTier, { arenaBytes: 0, hits: 0, misses: 2, cachedPages: 0, mlocked: false, numaNodes: [] });
});

t.test('through the member\'s own GetPages', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());
  const page = u8Page(1, 2 * MIB, 2);
  await putPages(client, [page]);
  for (let i = 0; i < 2; i++) t.ok((await getAll(client, { namespace: NS, keys: [page.meta.key] })).pages[0]!.data.equals(page.data));
  const status = await client.unary<StatusResponse>('admin', 'Status', {});
  t.match(status.memoryTier, { hits: 1, misses: 1, hitRatio: 0.5 }, 'the second GetPages was a tier hit');
});
