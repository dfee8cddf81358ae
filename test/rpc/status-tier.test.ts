// Proves that `kvc status` shows each member's native addon and memory tier: a real member on
// 127.0.0.1 serves two reads of one page (a miss, then a hit); the cluster view the CLI builds
// (src/cli/cluster-status.ts, in this process) carries addon loaded, arena total/used, mlocked,
// NUMA nodes and hit ratio; a real `kvc status` process prints them as table columns and as
// JSON fields, and for a member started without a tier (arenaBytes 0) prints "off". With
// KVC_NATIVE=0 the view says the addon is not loaded and why.
import t from 'tap';
import { gatherClusterView } from '../../src/cli/cluster-status.js';
import { runKvc } from '../cli/helpers.js';
import { NS, RawClient, putPages, startCluster, u8Page } from './helpers.js';

const MIB = 1024 * 1024;

t.test('the status view and `kvc status` show the addon and the memory tier', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new RawClient(member.address);
  t.teardown(() => client.close());
  const page = u8Page(1, 2 * MIB);
  await putPages(client, [page]);
  for (let i = 0; i < 2; i++) (await member.node.readPage(NS, page.meta.key))!.release();

  const view = await gatherClusterView([member.address]);
  const row = view.members[0]!;
  const nativeLoaded = process.env.KVC_NATIVE !== '0';
  t.match(row, { id: 1, native: nativeLoaded, arenaBytes: 32 * MIB, arenaUsedBytes: 2 * MIB, tierHits: 1, tierMisses: 1, hitRatio: 0.5 });
  t.type(row.mlocked, 'boolean');
  t.same(row.numaNodes, [0], 'one region, on node 0 of this one-node machine');
  if (!nativeLoaded) t.match(row.nativeReason, /KVC_NATIVE=0/, 'says why the addon is not loaded');

  const json = await runKvc(['status', '--endpoints', member.address, '--json']);
  t.equal(json.code, 0, json.stderr);
  t.match(JSON.parse(json.stdout).members[0], { native: nativeLoaded, arenaBytes: 32 * MIB, hitRatio: 0.5 }, 'JSON carries the fields');
  const table = await runKvc(['status', '--endpoints', member.address]);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /PID\s+NATIVE\s+ARENA\s+MLOCK\s+NUMA\s+HIT%/, 'the table has the columns');
  t.match(table.stdout, new RegExp(`${nativeLoaded ? 'yes' : 'no'}\\s+2\\.0 MiB/32\\.0 MiB\\s+(yes|no)\\s+\\S+\\s+50\\.0%`), 'and the member\'s values');
  if (!nativeLoaded) t.match(table.stdout, /member 1: native addon not loaded: disabled by KVC_NATIVE=0/);
});

t.test('a member without a memory tier shows "off"', async (t) => {
  const cluster = await startCluster([1], { memoryTier: { arenaBytes: 0 } });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const view = await gatherClusterView([member.address]);
  t.match(view.members[0], { arenaBytes: 0, arenaUsedBytes: 0, numaNodes: [], hitRatio: 0 });
  const table = await runKvc(['status', '--endpoints', member.address]);
  t.match(table.stdout, /\s+off\s+-\s+-\s+-\n/, 'ARENA off, no MLOCK, NUMA or HIT%');
});
