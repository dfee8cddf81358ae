// Proves AdminService Status's state digest with two real members on 127.0.0.1: without
// include_digest the field is empty (the member does not read its store); with it, every member
// reports the same sha256 as its node's own digest() once they have applied the same entries, and
// the digest changes when a page is added.
import t from 'tap';
import type { StatusResponse__Output as StatusResponse } from '../../src/rpc/index.js';
import { RawClient, eventually, putPages, startCluster, u8Page } from './helpers.js';

const SHA256_HEX = /^[0-9a-f]{64}$/;

t.test('Status carries the store digest only when asked', async (t) => {
  const cluster = await startCluster([1, 2]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  // The first leader replicates the capacity settings once; after that the state only changes by puts.
  await eventually(() => [...cluster.members.values()].every((m) => m.node.store.settings().replicated), 10_000, 'the settings to be replicated');
  const clients = [...cluster.members.values()].map((m) => new RawClient(m.address));
  t.teardown(() => clients.forEach((c) => c.close()));
  const leaderClient = new RawClient(leader.address);
  t.teardown(() => leaderClient.close());
  const put = await putPages(leaderClient, [u8Page(1, 4096), u8Page(2, 4096)]);
  t.same(put.results.map((r) => r.code), ['', '']);

  const plain = await clients[0]!.unary<StatusResponse>('admin', 'Status', {});
  t.equal(plain.digest, '', 'no digest unless asked');

  const digests = async (): Promise<string[]> =>
    Promise.all(clients.map(async (c) => (await c.unary<StatusResponse>('admin', 'Status', { includeDigest: true })).digest));
  await eventually(async () => new Set(await digests()).size === 1, 5_000, 'both members to report one digest');
  const [first] = await digests();
  t.match(first, SHA256_HEX, 'a sha256 in hex');
  t.equal(first, await leader.node.digest(), 'the node\'s own digest');

  await putPages(leaderClient, [u8Page(3, 4096)]);
  const leaderStatus = await leaderClient.unary<StatusResponse>('admin', 'Status', { includeDigest: true });
  t.not(leaderStatus.digest, first, 'a new page changes the digest');
});
