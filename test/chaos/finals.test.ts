// Proves how the harness reads its final states when the cluster moves on while it reads: a real
// 3-member chaos cluster (member processes behind the harness's proxies). The finals of one
// member are made to disagree on a key by hand, as when an entry applied between two members'
// reads of that key (an eviction the leader proposed after the last put) took the page from one
// read and not the other. While the applied index stands still the difference is kept for the
// convergence checker (it would be the cluster's); once the cluster applied past the finals'
// index, the differing key is read again from every member after a new convergence, and the
// finals carry what they answer then, with the new applied index and digest. About 10 s.
import path from 'node:path';
import t from 'tap';
import { crc32c } from '../../src/codec/index.js';
import { KvcClient } from '../../src/client/index.js';
import { ChaosCluster } from '../../src/chaos/cluster.js';
import { awaitConvergence, differingKeys, rereadDiffering } from '../../src/chaos/finals.js';
import type { MemberFinalState } from '../../src/chaos/history.js';
import { WORKLOAD_NAMESPACE, hex } from '../../src/chaos/workload.js';
import { tempDir } from './helpers.js';

const LEADER_WAIT_MS = 20_000;

function key(n: number): Uint8Array {
  return Uint8Array.from({ length: 16 }, (_, i) => (i === 15 ? n : 0x6b));
}

t.test('final reads are taken again for keys read across an entry applied meanwhile, and only then', async (t) => {
  const root = tempDir(t, 'kvc-chaos-finals-');
  const lines: string[] = [];
  const cluster = await ChaosCluster.create({ nodes: 3, root, logDir: path.join(root, 'logs'), log: (line) => lines.push(line) });
  t.teardown(() => cluster.shutdown());
  await cluster.startAll();
  const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
  t.ok(leader !== undefined, 'a leader');
  if (leader === undefined) return;
  const client = new KvcClient({ endpoints: [cluster.address(leader)] });
  t.teardown(() => client.close());
  const put = async (k: Uint8Array, fill: number): Promise<Uint8Array> => {
    const data = new Uint8Array(4096).fill(fill);
    const [outcome] = await client.putPages([{ meta: { namespace: WORKLOAD_NAMESPACE, key: k, dtype: 'u8', shape: [data.byteLength], tokens: 16 }, data }]);
    t.equal(outcome?.code, '', 'put stored');
    return data;
  };

  const a = key(1);
  const aData = await put(a, 7);
  const first = await awaitConvergence(cluster);
  t.equal(first.converged, true, 'converged after the first put');
  const applied = first.views.get(leader)!.appliedIndex;
  // What the members would have recorded had member 1's read of `a` come before the put applied there.
  const finals: MemberFinalState[] = first.members.map((member) => ({
    member,
    pages: { [hex(a)]: member === 1 ? null : { crc32c: crc32c(aData), bytes: aData.byteLength } },
    appliedIndex: first.views.get(member)!.appliedIndex,
    digest: first.views.get(member)!.digest,
  }));
  t.same([...differingKeys(finals)], [hex(a)]);

  const logged: string[] = [];
  const still = await rereadDiffering(cluster, first, finals, [a], (line) => logged.push(line));
  t.same(logged, [], 'the applied index stood still: nothing is read again');
  t.equal(still.finals.find((f) => f.member === 1)!.pages[hex(a)], null, 'the difference stays for the convergence checker');
  t.equal(still.convergence, first);

  await put(key(2), 9); // The cluster applies past the finals' index.
  const moved = await rereadDiffering(cluster, first, finals, [a], (line) => logged.push(line));
  t.equal(logged.length, 1, logged.join('\n'));
  t.match(logged[0], new RegExp(`members answered 1 keys differently while the cluster applied past index ${applied} \\(to \\d+\\)`));
  t.same(differingKeys(moved.finals), new Set(), 'read again, every member answers alike');
  for (const final of moved.finals) {
    t.same(final.pages[hex(a)], { crc32c: crc32c(aData), bytes: aData.byteLength }, `member ${final.member} holds the page`);
    t.ok(final.appliedIndex > applied, `member ${final.member}'s applied index is the new convergence's`);
    t.equal(final.digest, moved.convergence.views.get(final.member)!.digest);
  }
  t.ok(moved.convergence.waitedMs >= first.waitedMs, 'the waits are summed');
});
