// Proves the client's capacity calls against a real 3-member cluster (test/rpc startCluster: real
// gRPC servers on 127.0.0.1, real WALs and LevelDBs in a temp dir, 10 ms ticks), through a client
// that knows only a follower: getSettings answers the replicated settings on every member;
// setConfig is redirected to the leader, returns the applied settings, may be repeated, and
// reaches every member; a bad value fails at once with KVC_INVALID_CONFIG (not retried);
// setNamespaceConfig shows in listNamespaces and in Status; a lookup lease is sent (and an
// over-long one refused by the server with KVC_INVALID_ARGUMENT); and listAllRemovals pages
// through a record whose one log entry removed more pages than a page of the listing holds,
// returning each removal exactly once.
import t from 'tap';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import { eventually, pageBytes, pageKey, startCluster } from '../rpc/helpers.js';

const NS = 'capacity-test';
const PAGE_BYTES = 4 * 1024;
const PAGES = 5;
const MiB = 1024 * 1024;
const WAIT_MS = 10_000;

function page(i: number): PageInput {
  return { meta: { namespace: NS, key: pageKey(i), dtype: 'u8', shape: [PAGE_BYTES], tokens: 16 }, data: pageBytes(i, PAGE_BYTES) };
}

/** Polls `check`; a call that fails (a member catching up) counts as not yet. */
function until(check: () => Promise<boolean>, what: string): Promise<void> {
  return eventually(() => check().catch(() => false), WAIT_MS, what);
}

t.test('capacity calls against a real cluster', async (t) => {
  const cluster = await startCluster([1, 2, 3]);
  t.teardown(() => cluster.stopAll());
  const leader = await cluster.leader();
  const follower = cluster.followers()[0]!;
  const client = new KvcClient({ endpoints: [follower.address] });
  t.teardown(() => client.close());
  const addresses = [...cluster.members.values()].map((m) => m.address);

  await t.test('getSettings: the first leader replicates its settings to every member', async (t) => {
    await until(async () => (await Promise.all(addresses.map((a) => client.getSettings(a)))).every((s) => s.replicated), 'settings on every member');
    const settings = await client.getSettings(leader.address);
    t.ok(settings.budgetBytes > 0 && settings.lowWatermark < settings.highWatermark, 'a budget and ordered watermarks');
  });

  await t.test('setConfig goes to the leader, may be repeated, and reaches every member', async (t) => {
    const settings = await client.setConfig('budgetBytes', '64MiB');
    t.equal(settings.budgetBytes, 64 * MiB, 'the size text is parsed by the server');
    t.equal(client.leader, leader.address, 'the write was redirected to the leader');
    t.same(await client.setConfig('budgetBytes', '64MiB'), settings, 'the same value again changes nothing');
    await until(async () => (await Promise.all(addresses.map((a) => client.getSettings(a)))).every((s) => s.budgetBytes === 64 * MiB), 'the budget on every member');
    const status = await client.status(follower.address);
    t.equal(status.settings?.budgetBytes, 64 * MiB, 'Status carries the settings too');
  });

  await t.test('a bad key or value is KVC_INVALID_CONFIG at once', async (t) => {
    for (const [key, value] of [['lowWatermark', '1.5'], ['budgetBytes', 'lots'], ['noSuchKey', '1']] as const) {
      await t.rejects(client.setConfig(key, value), { code: 'KVC_INVALID_CONFIG', attempts: 1 }, `${key} ${value}`);
    }
    t.equal((await client.getSettings(leader.address)).budgetBytes, 64 * MiB, 'nothing changed');
  });

  await t.test('setNamespaceConfig shows in listNamespaces and Status', async (t) => {
    t.same((await client.putPages([0, 1, 2, 3, 4].map(page))).map((o) => o.code), Array(PAGES).fill(''));
    await client.setNamespaceConfig(NS, 'quotaBytes', '48MiB');
    await client.setNamespaceConfig(NS, 'defaultTtlMs', '60000');
    const list = await client.listNamespaces(leader.address);
    t.equal(list.endpoint, leader.address, 'says which member answered');
    t.match(list.namespaces.find((n) => n.namespace === NS), { pages: PAGES, bytes: PAGES * PAGE_BYTES, quotaBytes: 48 * MiB, defaultTtlMs: 60_000 });
    const status = await client.status(leader.address);
    t.match(status.namespaces.find((n) => n.namespace === NS), { quotaBytes: 48 * MiB });
    t.type(status.evictedPages, 'number');
    t.type(status.expiredPages, 'number');
    await t.rejects(client.setNamespaceConfig(NS, 'quotaBytes', 'a lot'), { code: 'KVC_INVALID_CONFIG' });
  });

  await t.test('lookup leases: sent, and bounded by the server', async (t) => {
    const keys = [0, 1, 2, 3, 4].map((i) => pageKey(i));
    t.equal(await client.lookup(NS, keys, { leaseMs: 5_000, linearizable: true }), PAGES);
    await t.rejects(client.lookup(NS, keys, { leaseMs: 70_000 }), { code: 'KVC_INVALID_ARGUMENT' }, 'over LIMITS.eviction.leaseMsMax');
    await t.rejects(client.lookup(NS, keys, { leaseMs: -1 }), RangeError, 'a negative lease is a caller mistake');
  });

  await t.test('listAllRemovals returns every removal of one large entry exactly once', async (t) => {
    await client.deletePages(NS, [0, 1, 2, 3, 4].map((i) => pageKey(i)));
    const start = await client.listRemovals({ endpoint: leader.address });
    const deleted = start.removals.filter((r) => r.namespace === NS && r.reason === 'deleted');
    t.equal(deleted.length, PAGES, 'five removals');
    t.equal(new Set(deleted.map((r) => r.index)).size, 1, 'all from one log entry');
    const first = await client.listRemovals({ endpoint: leader.address, limit: 2 });
    t.ok(first.removals.length === 2 && first.more, 'a limit cuts the page and says more follow');
    const all = await client.listAllRemovals({ endpoint: leader.address, pageLimit: 2 });
    t.same(all.removals, start.removals, 'paging two at a time gives the same record');
    t.notOk(all.more);
    const keys = new Set(all.removals.map((r) => Buffer.from(r.key).toString('hex')));
    t.equal(keys.size, all.removals.length, 'no removal twice');
    t.equal(await client.lookup(NS, [pageKey(0)], { linearizable: true }), 0, 'the pages are gone');
  });
});
