// Proves same-host lookups across processes: a real member process (`kvc start` from a config with
// a shared arena) keeps its page index in a shared-memory file, and this process, a client made
// with lookupVia 'shared-memory', answers lookups from it: the same answers as over gRPC through
// puts, a delete and a namespace drop, each distinct matched prefix still reported to the member
// (its Lookup counters), refused keys still refused by the member, and the file retired and
// removed when the member stops (lookups go over gRPC then). Skips without the addon.
import { existsSync } from 'node:fs';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { nativeStatus } from '../../src/native/index.js';
import { eventually } from '../wait.js';
import { SHM_DIR, sharedMemoryMember } from './member-process.js';

const native = nativeStatus();
const skip = native.loaded ? false : `needs the native addon (${native.reason})`;

function chain(n: number, tag: string): Uint8Array[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${String(i).padStart(8, '0')}`));
}

t.test('a client on the member\'s host answers lookups from its shared index', { skip }, async (t) => {
  const { address, start, exited } = await sharedMemoryMember(t, 'shared-lookup-process');
  const child = start();
  const grpcClient = new KvcClient({ endpoints: [address], retries: 20, backoffMaxMs: 500 });
  const client = new KvcClient({ endpoints: [address], lookupVia: 'shared-memory', retries: 2, backoffMaxMs: 200 });
  t.teardown(() => {
    client.close();
    grpcClient.close();
  });
  await eventually(async () => (await grpcClient.status(address).catch(() => undefined))?.role === 'leader', 45_000, 'the member leads');

  const status = await grpcClient.status(address);
  t.ok(status.sharedLookup, `Status lists the index (${status.sharedLookupNote})`);
  const file = status.sharedLookup!.path;
  t.ok(file.startsWith(SHM_DIR) && existsSync(file), `the file is in ${SHM_DIR}`);

  const a = chain(24, 'a');
  const b = chain(6, 'b');
  const data = new Uint8Array(64).fill(7);
  const meta = (namespace: string, key: Uint8Array) => ({ namespace, key, dtype: 'u8' as const, shape: [data.byteLength], tokens: 16 });
  const put = await grpcClient.putPages([...a.slice(0, 20).map((k) => ({ meta: meta('a', k), data })), ...b.map((k) => ({ meta: meta('b', k), data }))]);
  t.ok(put.every((p) => p.code === ''), 'pages stored');

  await eventually(async () => (await client.sharedLookupProblem()) === '', 10_000, 'the client finds the index');
  const both = async (ns: string, keys: Uint8Array[]): Promise<[number, number]> => [await client.lookup(ns, keys), await grpcClient.lookup(ns, keys)];
  t.same(await both('a', a), [20, 20], 'the stored prefix of a');
  t.same(await both('a', a.slice(5, 15)), [10, 10], 'a prefix that starts inside the chain');
  t.same(await both('b', a), [0, 0], 'keys of another namespace');
  t.same(await both('c', b), [0, 0], 'a namespace with no pages');
  t.same(await both('b', b), [6, 6]);
  const answered = client.sharedLookupCounters!.answered;
  t.ok(answered >= 5, `answered from shared memory (${answered})`);

  // Each distinct matched prefix reaches the member as a Lookup it counts (for eviction).
  const hitsOfB = async (): Promise<number> => (await grpcClient.listNamespaces()).namespaces.find((n) => n.namespace === 'b')?.lookupHits ?? 0;
  // 6 from grpcClient's own Lookup of b above, 6 from the shared-memory client's report.
  await eventually(async () => (await hitsOfB()) >= 12, 10_000, 'the member counts the reported lookup');
  t.equal(await hitsOfB(), 12, "the member counted the 6 keys matched in b once more: the client's report");

  await grpcClient.deletePages('a', [a[10]!]);
  await eventually(async () => (await client.lookup('a', a)) === 10, 10_000, 'a delete ends the prefix at the hole');
  t.same(await both('a', a), [10, 10], 'a delete ends the prefix at the hole');
  await grpcClient.dropNamespace('b');
  await eventually(async () => (await client.lookup('b', b)) === 0, 10_000, 'a dropped namespace matches nothing');
  t.equal(await grpcClient.lookup('b', b), 0, 'as over gRPC');

  // What the members refuse is still refused: it goes over gRPC for the member's code.
  await t.rejects(client.lookup('a', [Buffer.from('tiny')]), { code: 'KVC_INVALID_KEY' });
  await t.rejects(client.lookup('no spaces allowed', a), { code: 'KVC_INVALID_NAMESPACE' });
  // Linearizable and leased lookups are the member's to answer.
  const before = client.sharedLookupCounters!.answered;
  t.equal(await client.lookup('a', a, { linearizable: true }), 10);
  t.equal(await client.lookup('a', a, { leaseMs: 1_000 }), 10);
  t.equal(client.sharedLookupCounters!.answered, before, 'neither was answered from shared memory');

  // A member that stops retires and removes its file; the client then asks over gRPC.
  child.kill('SIGTERM');
  await exited(child);
  t.equal(existsSync(file), false, 'the file is removed at stop');
  const fellBack = client.sharedLookupCounters!.fellBack;
  await t.rejects(client.lookup('a', a), 'with the member gone, the lookup goes over gRPC and fails there');
  t.ok(client.sharedLookupCounters!.fellBack > fellBack, 'not answered from the retired file');
});
