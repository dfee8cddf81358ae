// Proves payload repair (src/member/payload-repair.ts) on three real in-process members over gRPC on
// 127.0.0.1: a page's blob payload on one follower is damaged while it runs (one byte flipped in
// the WAL segment its store keeps it in); a GetPages from that follower is refused with KVC_CHECKSUM_MISMATCH, never
// served; the refused read reports the page, the member fetches a good copy from a peer, and the
// next GetPages from it returns the bytes that were put. The start-up scrub of stopped members is
// proved by test/chaos/storage-faults.test.ts (bit-rot) and the store side by test/store/blob.test.ts.
import { readFileSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '../../src/codec/index.js';
import type { GetPagesResponse__Output as GetPagesResponse } from '../../src/rpc/index.js';
import { NS, RawClient, eventually, pageKey, putPages, servedEventually, startCluster, u8Page } from '../rpc/helpers.js';

const BYTES = 100 * 1024;

t.test('a damaged payload is refused on read and repaired from a peer', async (t) => {
  // No memory tier: every read goes to the member's files.
  const cluster = await startCluster([1, 2, 3], { memoryTier: { arenaBytes: 0 } });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const page = u8Page(7, BYTES);
  const writer = new RawClient(leader.address);
  t.teardown(() => writer.close());
  await putPages(writer, [page]);
  const follower = cluster.followers()[0]!;
  await eventually(async () => (await follower.node.getPage(NS, pageKey(7)).catch(() => undefined)) !== undefined, 10_000, 'the follower applied the page');

  // The payload lies in a WAL segment linked into the blob folder (the value log): find it there.
  const blobs = path.join(cluster.root, `m${follower.id}`, 'store', 'blobs');
  const payload = Buffer.from(page.data);
  const name = readdirSync(blobs).find((n) => readFileSync(path.join(blobs, n)).includes(payload));
  t.ok(name?.endsWith('.wal'), `the payload is in ${name}, a WAL segment linked in`);
  const at = readFileSync(path.join(blobs, name!)).indexOf(payload) + BYTES / 2;
  const file = await open(path.join(blobs, name!), 'r+');
  const byte = Buffer.alloc(1);
  await file.read(byte, 0, 1, at);
  byte[0] = byte[0]! ^ 0x41;
  await file.write(byte, 0, 1, at);
  await file.close();

  const reader = new RawClient(follower.address);
  t.teardown(() => reader.close());
  const request = { namespace: NS, keys: [pageKey(7)] };
  const refused = await reader.serverStream<GetPagesResponse>('cache', 'GetPages', request);
  t.ok(refused.error !== undefined, 'the damaged copy is not served');
  t.equal(refused.error?.code, grpc.status.DATA_LOSS, 'KVC_CHECKSUM_MISMATCH (DATA_LOSS)');
  t.match(refused.error?.details ?? '', /checksum does not match/);
  t.same(refused.messages.filter((m) => m.data.byteLength > 0), [], 'not one byte of it');

  const served = await servedEventually(reader, request);
  t.equal(served.byteLength, BYTES);
  t.equal(crc32c(served), crc32c(page.data), 'the bytes that were put');
  t.match(cluster.logs.join('\n'), /a read found page .* damaged; repairing from peers/);
  t.match(cluster.logs.join('\n'), /payload repair: done, 1 repaired from peers/);
});
