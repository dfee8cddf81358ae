// Proves the client library against a real 3-member cluster (src/member startMember: real gRPC
// servers on 127.0.0.1 port 0, real WALs and LevelDBs in a temp dir, 10 ms ticks, fsync off).
// Because port-0 addresses are only known once bound, the cluster is grown the way an operator
// would: member 1 starts alone, members 2 and 3 start empty (`join`) and the client's addMember
// brings them in. Then, through a client that knows only a follower: 20 pages of 256 KiB are put
// (the write is redirected to the leader), a Lookup of the chain with a hole answers the prefix
// before the hole, every member returns identical bytes, a page written through the follower is
// seen at once by a linearizable Lookup on every member, dtype conversion and layer ranges come
// through the wire enums, clusterStatus finds all three members from one address, and when the
// leader stops, writes find the new leader and reads skip the dead member.

import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startMember, type RunningMember } from '../../src/member/index.js';
import { crc32c, fp16ToFp32 } from '../../src/codec/index.js';
import { KvcClient, hashBlocks, type PageInput } from '../../src/client/index.js';
import { eventually as waitFor } from '../wait.js';

const NS = 'tenant-a/llama:8b';
const PAGE_BYTES = 256 * 1024;
const PAGES = 20;
const BLOCK_TOKENS = 16;
const LEADER_WAIT_MS = 10_000;

function pageBytes(index: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  let x = (index * 2654435761) >>> 0 || 1;
  for (let k = 0; k < size; k++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[k] = x & 0xff;
  }
  return data;
}

/** Waits for `check`; a call that fails (a member not up yet) counts as not yet. */
function eventually(check: () => Promise<boolean>, what: string, timeoutMs = LEADER_WAIT_MS): Promise<void> {
  return waitFor(() => check().catch(() => false), timeoutMs, what);
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

t.test('the client against a real 3-member cluster', async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-client-'));
  const members: RunningMember[] = [];
  const admin = { client: undefined as KvcClient | undefined };
  t.teardown(async () => {
    admin.client?.close();
    await Promise.all(members.map((m) => m.stop().catch(() => undefined)));
    await rm(root, { recursive: true, force: true });
  });
  const start = async (id: number, join: boolean): Promise<RunningMember> => {
    const member = await startMember({
      id,
      listen: '127.0.0.1:0',
      members: join ? [{ id: 1, address: members[0]!.address }] : [{ id: 1, address: '127.0.0.1:0' }],
      join,
      dataDir: path.join(root, `m${id}`),
      node: { tickMs: 10, fsync: false },
    });
    members.push(member);
    return member;
  };

  // Grow the cluster to three voters through the client's admin calls.
  const first = await start(1, false);
  admin.client = new KvcClient({ endpoints: [first.address] });
  await eventually(async () => (await admin.client!.status()).role === 'leader', 'member 1 to lead');
  for (const id of [2, 3]) {
    const member = await start(id, true);
    await admin.client.addMember(id, member.address);
  }
  await eventually(async () => (await admin.client!.clusterStatus()).members.length === 3, 'three members to answer');
  const leaderId = (await admin.client.clusterStatus()).leader;
  t.ok(leaderId > 0, `member ${leaderId} leads`);
  const leader = members.find((m) => m.id === leaderId)!;
  const follower = members.find((m) => m.id !== leaderId)!;

  // A worker that knows only a follower.
  const client = new KvcClient({ endpoints: [follower.address] });
  t.teardown(() => client.close());
  const tokens = Array.from({ length: (PAGES + 1) * BLOCK_TOKENS }, (_, i) => (i * 7919) % 128_000);
  const keys = hashBlocks(tokens, { blockTokens: BLOCK_TOKENS, namespace: NS, salt: 'tenant-a' });
  const HOLE = 10;
  const makePage = (i: number): PageInput => ({
    meta: { namespace: NS, key: keys[i]!, dtype: 'fp16', shape: [4, PAGE_BYTES / 8], tokens: BLOCK_TOKENS, ...(i > 0 ? { parentKey: keys[i - 1]! } : {}) },
    data: pageBytes(i, PAGE_BYTES),
  });
  const written = keys.map((_, i) => i).filter((i) => i !== HOLE);
  t.equal(written.length, PAGES);

  await t.test('puts through a follower are redirected to the leader', async (t) => {
    const outcomes = await client.putPages(written.map(makePage));
    t.same(outcomes.map((o) => o.code), written.map(() => ''), '20 pages of 256 KiB stored');
    t.equal(client.leader, leader.address, 'the client found the leader');
    t.same(await client.putPages([makePage(0)]).then((o) => o.map((x) => x.code)), [''], 'an identical put again is a success');
  });

  await t.test('lookup of a chain with a hole answers the prefix before it', async (t) => {
    t.equal(await client.lookup(NS, keys, { linearizable: true }), HOLE);
    t.equal(await client.lookup(NS, keys.slice(HOLE + 1), { linearizable: true }), PAGES - HOLE, 'the chain after the hole is there');
    t.equal(await client.lookup('tenant-b/llama:8b', keys, { linearizable: true }), 0, 'another namespace sees nothing');
  });

  await t.test('every member returns identical bytes', async (t) => {
    for (const member of members) {
      // A linearizable lookup on the member first: it has then applied every acknowledged put.
      t.equal(await client.lookup(NS, keys.slice(0, HOLE), { linearizable: true, endpoint: member.address }), HOLE);
      const pages = [];
      for await (const page of client.getPages(NS, keys.slice(0, HOLE), { endpoint: member.address })) pages.push(page);
      t.ok(pages.length === HOLE && pages.every((p, i) => same(p.data, pageBytes(i, PAGE_BYTES))), `member ${member.id}: ${HOLE} pages, identical bytes`);
      t.ok(pages.every((p, i) => p.meta.crc32c === crc32c(pageBytes(i, PAGE_BYTES)) && p.meta.dtype === 'fp16'), `member ${member.id}: metadata`);
    }
    const target = new Uint8Array(PAGES * PAGE_BYTES);
    const into = await client.getPagesInto(NS, keys.slice(HOLE + 1), target);
    t.equal(into.bytes, (PAGES - HOLE) * PAGE_BYTES);
    t.ok(into.pages.every((_, j) => same(target.subarray(j * PAGE_BYTES, (j + 1) * PAGE_BYTES), pageBytes(HOLE + 1 + j, PAGE_BYTES))), 'into a buffer, identical');
    await t.rejects(
      (async () => {
        for await (const page of client.getPages(NS, keys)) void page;
      })(),
      { code: 'KVC_NOT_FOUND' },
      'the hole ends a full get with KVC_NOT_FOUND',
    );
  });

  await t.test('a write through the follower is seen by a linearizable lookup everywhere', async (t) => {
    const viaFollower = new KvcClient({ endpoints: [follower.address] });
    t.teardown(() => viaFollower.close());
    t.same((await viaFollower.putPages([makePage(HOLE)])).map((o) => o.code), ['']);
    for (const member of members) {
      t.equal(await viaFollower.lookup(NS, keys, { linearizable: true, endpoint: member.address }), PAGES + 1, `member ${member.id} sees the filled hole`);
    }
  });

  await t.test('dtype conversion and layer ranges through the wire enums', async (t) => {
    const fp32 = new Float32Array([1, -2, 0.5, 3, 1024, -0.25, 65504, 0]);
    const key = hashBlocks([1, 2, 3, 4], { blockTokens: 4, namespace: NS, salt: 'dtype' })[0]!;
    const outcome = await client.putPages([{ meta: { namespace: NS, key, dtype: 'fp32', shape: [2, 4], tokens: 4, storeDtype: 'fp16' }, data: new Uint8Array(fp32.buffer) }]);
    t.same(outcome.map((o) => o.code), ['']);
    const [stored] = await collect(client.getPages(NS, [key]));
    t.same([stored!.meta.dtype, stored!.meta.bytes, stored!.meta.shape], ['fp16', 16, [2, 4]], 'stored as fp16');
    t.equal(stored!.data.byteOffset, 0, 'a page owns its buffer, so typed views need no copy');
    t.same([...fp16ToFp32(new Uint16Array(stored!.data.buffer))], [...fp32], 'exactly representable values survive');
    const [wide] = await collect(client.getPages(NS, [key], { asDtype: 'fp32', layerBegin: 1, layerEnd: 2 }));
    t.same([wide!.meta.dtype, wide!.meta.shape], ['fp32', [1, 4]], 'layer 1 as fp32');
    t.same([...new Float32Array(wide!.data.buffer)], [...fp32.subarray(4)]);
  });

  await t.test('clusterStatus finds every member from one address', async (t) => {
    const status = await client.clusterStatus();
    t.same(status.members.map((m) => m.id), [1, 2, 3]);
    t.equal(status.leader, leaderId);
    t.ok(status.members.every((m) => m.members.length === 3 && m.pages === PAGES + 2), 'each member lists three members and holds every page');
    t.same(status.unreachable, []);
  });

  await t.test('the leader stops: writes find the new leader, reads skip the dead member', async (t) => {
    await leader.stop();
    const extra = hashBlocks(tokens.concat(tokens), { blockTokens: BLOCK_TOKENS, namespace: NS, salt: 'failover' }).slice(0, 3);
    const pages = extra.map((key, i) => ({ ...makePage(i), meta: { ...makePage(i).meta, key } }));
    const outcomes = await client.putPages(pages);
    t.same(outcomes.map((o) => o.code), ['', '', ''], 'acknowledged by the new leader');
    t.not(client.leader, leader.address, `the client moved to ${client.leader}`);
    t.equal(await client.lookup(NS, extra, { linearizable: true }), 3);
    for (let i = 0; i < 3; i++) t.equal((await collect(client.getPages(NS, extra))).length, 3, `read ${i} served by a live member`);
    const status = await client.clusterStatus();
    t.same(status.unreachable.map((u) => u.address), [leader.address], 'clusterStatus reports the stopped member');
  });
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
