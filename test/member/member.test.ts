// Proves startMember's edges with real members on 127.0.0.1: bad options are refused with a
// message naming the problem; a port in use and a data directory the node cannot open fail the
// start cleanly (the port is released); a member without quorum answers writes UNAVAILABLE with
// KVC_NO_LEADER and no leader trailer, and a linearizable read respects the call's deadline;
// a leader that loses its quorum in the middle of a PutPages stream fails the stream with
// UNAVAILABLE instead of acknowledging; a 72 MiB PutPages stream and GetPages of it honour
// backpressure both ways (a slow reader gets every byte) and a cancelled GetPages stops, leaving
// the member serving; a member whose node stopped on a disk fault still answers Status with role
// "stopped", refuses cache calls UNAVAILABLE, and its health turns NOT_SERVING.
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import * as grpc from '@grpc/grpc-js';
import { startMember } from '../../src/member/index.js';
import type { GetPagesResponse__Output as GetPagesResponse, LookupResponse__Output as LookupResponse, PutPagesRequest, PutPagesResponse__Output as PutPagesResponse, StatusResponse__Output as StatusResponse } from '../../src/rpc/index.js';
import { FaultInjectingFileLayer } from '../../src/wal/index.js';
import { NS, RawClient, eventually, pageMessages, putPages, reservePorts, sleep, startCluster, u8Page, type CallError } from '../rpc/helpers.js';

const MIB = 1024 * 1024;
const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-member-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('bad options, a port in use, an unopenable data directory', async (t) => {
  const base = { id: 1, listen: '127.0.0.1:0', members: [{ id: 1, address: '127.0.0.1:1' }], dataDir: path.join(root, 'a'), node: { fsync: false } };
  await t.rejects(startMember({ ...base, id: 0 }), /member id must be a positive integer/);
  await t.rejects(startMember({ ...base, members: [{ id: -1, address: 'x:1' }] }), /members: id must be a positive integer/);
  await t.rejects(startMember({ ...base, members: [{ id: 2, address: 'x:1' }] }), /members must include this member/);
  await t.rejects(startMember({ ...base, listen: '0.0.0.0:0' }), /set advertise/);
  const [port] = await reservePorts(1);
  const holder = await startMember({ ...base, listen: `127.0.0.1:${port}`, dataDir: path.join(root, 'holder') });
  t.teardown(() => holder.stop());
  await t.rejects(startMember({ ...base, listen: `127.0.0.1:${port}`, dataDir: path.join(root, 'b') }), /cannot listen on/);
  const broken = path.join(root, 'broken');
  await mkdir(broken, { recursive: true });
  await writeFile(path.join(broken, 'wal'), 'not a directory');
  const [freePort] = await reservePorts(1);
  await t.rejects(startMember({ ...base, listen: `127.0.0.1:${freePort}`, dataDir: broken }));
  const zero = await startMember({ ...base, dataDir: path.join(root, 'zero') });
  t.match(zero.address, /^127\.0\.0\.1:[1-9]\d*$/, 'port 0 binds a free port and advertises it');
  await zero.stop();
  const again = await startMember({ ...base, listen: `127.0.0.1:${freePort}`, dataDir: path.join(root, 'c'), advertise: `localhost:${freePort}` });
  t.equal(again.address, `localhost:${freePort}`, 'the port was released by the failed start; advertise is used as given');
  await again.stop();
});

t.test('without quorum: KVC_NO_LEADER, and reads bounded by the call deadline', async (t) => {
  const [p1, p2] = await reservePorts(2);
  const lonely = await startMember({
    id: 1,
    listen: `127.0.0.1:${p1}`,
    members: [{ id: 1, address: `127.0.0.1:${p1}` }, { id: 2, address: `127.0.0.1:${p2}` }],
    dataDir: path.join(root, 'lonely'),
    node: { tickMs: 10, fsync: false },
  });
  t.teardown(() => lonely.stop());
  const client = new RawClient(lonely.address);
  t.teardown(() => client.close());
  const put = await putPages(client, [u8Page(1, 64)]).catch((e: CallError) => e);
  t.equal((put as CallError).code, grpc.status.UNAVAILABLE);
  t.equal((put as CallError).kvcCode, 'KVC_NO_LEADER');
  t.equal((put as CallError).leader, undefined, 'no leader trailer when none is known');
  const started = Date.now();
  const read = await client.unary('cache', 'Lookup', { namespace: NS, keys: [], linearizable: true }, new grpc.Metadata(), 400).catch((e: CallError) => e);
  t.equal((read as CallError).code, grpc.status.DEADLINE_EXCEEDED, 'a linearizable read without a leader times out');
  t.ok(Date.now() - started < 2_000, 'at the call deadline, not the default timeout');
  const local = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys: [] });
  t.equal(local.matched, 0, 'a local read still works');
  const admin = await client.unary('admin', 'AddMember', { id: 3, address: '127.0.0.1:9' }).catch((e: CallError) => e);
  t.equal((admin as CallError).kvcCode, 'KVC_NO_LEADER');
});

t.test('GetPages honours backpressure and client cancellation', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const client = new RawClient(leader.address);
  t.teardown(() => client.close());
  // 72 MiB in one stream: more than a stream may have in flight unapplied (64 MiB), so the
  // handler pauses reading; and more than the HTTP/2 windows (16 MiB each side) can absorb.
  const pages = Array.from({ length: 9 }, (_, i) => u8Page(i, 8 * MIB, 8));
  const put = await putPages(client, pages);
  t.ok(put.results.every((r) => r.code === ''), 'a 72 MiB stream is stored');
  const keys = pages.map((p) => p.meta.key);

  // A slow reader: pause after the first message, so the server's writes back up.
  const method = RawClient.method('cache', 'GetPages');
  const slow = client.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: NS, keys }, new grpc.Metadata(), {});
  const parts: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    slow.on('data', (m: GetPagesResponse) => {
      parts.push(Buffer.from(m.data));
      if (parts.length === 1) {
        slow.pause();
        setTimeout(() => slow.resume(), 600);
      }
    });
    slow.on('end', resolve);
    slow.on('error', reject);
  });
  await done;
  t.ok(Buffer.concat(parts).equals(Buffer.concat(pages.map((p) => Buffer.from(p.data)))), 'a slow reader gets every byte in order');

  const cancelled = client.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: NS, keys }, new grpc.Metadata(), {});
  cancelled.on('error', () => undefined);
  await new Promise<void>((resolve) => cancelled.once('data', () => resolve()));
  cancelled.cancel();
  await sleep(200);
  const lookup = await client.unary<LookupResponse>('cache', 'Lookup', { namespace: NS, keys });
  t.equal(lookup.matched, keys.length, 'the member serves on after a cancelled stream');
  await eventually(() => leader.node.fatalError === undefined, 100, 'no fatal error');
});

t.test('a leader that loses its quorum mid-stream fails the put', async (t) => {
  const cluster = await startCluster([1, 2, 3], { node: { tickMs: 50, fsync: false } });
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const client = new RawClient(leader.address);
  t.teardown(() => client.close());
  await Promise.all(cluster.followers().map((m) => m.stop()));
  const { call, response } = client.clientStream<PutPagesRequest, PutPagesResponse>('cache', 'PutPages');
  for (const message of pageMessages(u8Page(1, 1024))) call.write(message);
  await eventually(() => !leader.node.isLeader(), 5_000, 'the leader to step down (check quorum)');
  await sleep(50);
  call.write(pageMessages(u8Page(2, 4096), 1024)[0]!);
  const error = await response.catch((e: CallError) => e);
  t.equal((error as CallError).code, grpc.status.UNAVAILABLE, 'the put fails UNAVAILABLE');
  t.match((error as CallError).kvcCode, /KVC_NOT_LEADER|KVC_NO_LEADER/);
});

t.test('a member whose node stopped on a disk fault reports it', async (t) => {
  const files = new FaultInjectingFileLayer();
  const cluster = await startCluster([1], { node: { tickMs: 10, fsync: false, walFiles: files } });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());
  files.tearNextWrite(3);
  const put = await putPages(client, [u8Page(1, 4096)]).catch((e: CallError) => e);
  t.equal((put as CallError).code !== undefined, true, 'the put in flight fails');
  await eventually(() => member.node.stopped, 5_000, 'the node to stop on the fault');
  const status = await client.unary<StatusResponse>('admin', 'Status', {});
  t.equal(status.role, 'stopped', 'Status still answers, with role "stopped"');
  const lookup = await client.unary('cache', 'Lookup', { namespace: NS, keys: [] }).catch((e: CallError) => e);
  t.equal((lookup as CallError).code, grpc.status.UNAVAILABLE, 'cache calls answer UNAVAILABLE');
  await eventually(async () => (await healthStatus(member.address)) === 2, 3_000, 'health to say NOT_SERVING');
  t.pass('health says NOT_SERVING');
});

/** grpc.health.v1 Check for the whole server: 1 SERVING, 2 NOT_SERVING (the enum's numbers). */
function healthStatus(address: string): Promise<number> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest('/grpc.health.v1.Health/Check', () => Buffer.alloc(0), (bytes: Buffer) => bytes[1] ?? 0, {}, (error, value) => {
      client.close();
      return error ? reject(error) : resolve(value!);
    });
  });
}
