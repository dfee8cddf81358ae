// Proves cluster-wide eviction (issue 10) on a real 3-member cluster (startMember on 127.0.0.1:
// real WALs, LevelDBs and gRPC; the TypeScript client): given three times its byte budget in
// chained pages, the cluster accepts every put, no member ever holds more than the budget (sampled
// every few ms while the puts run), a parent is never evicted while a child of it is stored, and
// afterwards every member reports the same digest. Pinned pages, leased prefixes (a Lookup with
// lease_ms on a follower) and pages read inside the grace window survive; when everything left is
// protected a put is refused with KVC_QUOTA_EXHAUSTED naming what held pages back. Expired pages
// (page TTL and namespace default TTL) disappear on every member. Settings are replicated: a bad
// value is KVC_INVALID_CONFIG, a follower redirects, and a member that was down and catches up by
// snapshot agrees on the settings and the evictions.
import t from 'tap';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import { crc32c } from '../../src/codec/index.js';
import { pageId } from '../../src/store/index.js';
import type { RunningMember } from '../../src/member/index.js';
import { RawClient, eventually, sleep, startCluster, type CallError } from './helpers.js';

const MIB = 1024 * 1024;
const BUDGET_BYTES = 32 * MIB;
const PAGE_BYTES = 1 * MIB;
const CHAIN_PAGES = 8;
const NS = 'evict/llama';

const cluster = await startCluster([1, 2, 3], { node: { tickMs: 50, fsync: false, budgetBytes: BUDGET_BYTES, evictionGraceMs: 0 } });
t.teardown(() => cluster.stopAll());
const endpoints = () => [...cluster.members.values()].map((m) => m.address);
const client = new KvcClient({ endpoints: endpoints() });
t.teardown(() => client.close());
const live = (): RunningMember[] => [...cluster.members.values()].filter((m) => !m.node.stopped);

function key(chain: number, i: number): Uint8Array {
  const out = new Uint8Array(16);
  const view = new DataView(out.buffer);
  view.setUint32(0, 0x6b766331);
  view.setUint32(8, chain);
  view.setUint32(12, i);
  return out;
}

function chainPages(chain: number, o: { ns?: string; ttlMs?: number; bytes?: number } = {}): PageInput[] {
  return Array.from({ length: CHAIN_PAGES }, (_, i) => {
    const data = new Uint8Array(o.bytes ?? PAGE_BYTES).fill((chain * 31 + i) & 0xff);
    return {
      meta: {
        namespace: o.ns ?? NS,
        key: key(chain, i),
        ...(i > 0 ? { parentKey: key(chain, i - 1) } : {}),
        dtype: 'u8' as const,
        shape: [data.byteLength],
        tokens: 16,
        ...(o.ttlMs === undefined ? {} : { ttlMs: o.ttlMs }),
      },
      data,
    };
  });
}

const keysOf = (chain: number): Uint8Array[] => Array.from({ length: CHAIN_PAGES }, (_, i) => key(chain, i));

async function putChains(first: number, count: number, bytes = PAGE_BYTES): Promise<void> {
  for (let chain = first; chain < first + count; chain++) {
    const outcomes = await client.putPages(chainPages(chain, { bytes }));
    const refused = outcomes.filter((o) => o.code !== '');
    if (refused.length > 0) throw new Error(`chain ${chain}: ${refused[0]!.code} ${refused[0]!.message}`);
  }
}

/** Every member's stored bytes, sampled until `stop` resolves; returns the largest seen. */
function sampleBytes(): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      for (const m of live()) max = Math.max(max, m.node.status().bytes);
      await sleep(5);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return max;
    },
  };
}

/** Stored pages whose parent is not stored (chains here are put parent first, so there must be none). */
function orphans(m: RunningMember): string[] {
  const index = m.node.store.index;
  const found: string[] = [];
  for (const page of index.pagesOf()) if (page.parentId !== undefined && index.parentOf(page) === undefined) found.push(pageId(page.ns, page.keyId));
  return found;
}

async function waitSameApplied(): Promise<void> {
  await eventually(() => {
    const applied = live().map((m) => m.node.status().appliedIndex);
    return applied.every((a) => a === applied[0]);
  }, 10_000, 'every member to apply the same index');
}

/**
 * Every member's digest once they agree, or the last ones seen after 10 s. The leader may still
 * be evicting when the puts end (its capacity check runs on a timer), and a leader applies an
 * entry before its followers learn that it is committed, so one sample of equal applied indexes
 * can still be followed by an apply on one member before its digest is read.
 */
async function digests(): Promise<string[]> {
  let seen: string[] = [];
  try {
    await eventually(async () => {
      await waitSameApplied();
      seen = await Promise.all(live().map((m) => m.node.digest()));
      return new Set(seen).size === 1;
    }, 10_000, 'every member to report the same digest');
  } catch {
    // The caller's assertion shows the digests that disagree.
  }
  return seen;
}

t.test('settings are replicated from the first leader config', async (t) => {
  await eventually(() => live().every((m) => m.node.store.settings().replicated), 10_000, 'the settings to be replicated');
  for (const m of live()) t.match(m.node.store.settings(), { budgetBytes: BUDGET_BYTES, evictionGraceMs: 0, highWatermark: 0.9, lowWatermark: 0.85 }, `member ${m.id}`);
});

t.test('three budgets of pages: every put accepted, never over budget, parents kept, digests agree', async (t) => {
  const sampler = sampleBytes();
  await putChains(0, (3 * BUDGET_BYTES) / PAGE_BYTES / CHAIN_PAGES);
  const maxBytes = await sampler.stop();
  t.ok(maxBytes <= BUDGET_BYTES, `no member held more than the budget (max ${maxBytes})`);
  const st = (await cluster.leader()).node.status();
  t.ok(st.evictedPages >= 2 * (BUDGET_BYTES / PAGE_BYTES), `evictions happened (${st.evictedPages})`);
  t.ok(st.bytes <= BUDGET_BYTES, 'within budget afterwards');
  for (const m of live()) t.same(orphans(m), [], `member ${m.id}: no stored page lost its parent`);
  await waitSameApplied();
  // Leaves go first: the newest chain's root is still there while older chains went.
  t.equal(await client.lookup(NS, keysOf(11)), CHAIN_PAGES, 'the newest chain is whole');
  t.equal(await client.lookup(NS, keysOf(0)), 0, 'the oldest chain is gone');
  const all = await digests();
  t.equal(new Set(all).size, 1, 'every member reports the same digest');
});

t.test('pinned pages, leased prefixes and pages read within the grace window survive', async (t) => {
  const raw = new RawClient((await cluster.leader()).address);
  t.teardown(() => raw.close());
  // Small pages: what is protected must leave room for a chain being put, whose own pages are
  // protected while their children are in flight.
  await putChains(100, 3, PAGE_BYTES / 4);
  await client.pinPages(NS, keysOf(100), 60_000);
  const follower = cluster.followers()[0]!;
  await eventually(() => follower.node.lookup(NS, keysOf(101)) === CHAIN_PAGES, 5_000, 'the follower to have chain 101');
  const followerClient = new RawClient(follower.address);
  t.teardown(() => followerClient.close());
  const leased = await followerClient.unary<{ matched: number }>('cache', 'Lookup', { namespace: NS, keys: keysOf(101), leaseMs: 60_000 });
  t.equal(leased.matched, CHAIN_PAGES, 'leased on a follower');
  await raw.unary('admin', 'SetConfig', { key: 'evictionGraceMs', value: '60000' });
  for await (const page of client.getPages(NS, keysOf(102))) t.equal(page.data.byteLength, PAGE_BYTES / 4);
  await sleep(1_200); // Past one access-report interval, so the leader has heard of the reads too.
  await putChains(200, 6);
  t.equal(await client.lookup(NS, keysOf(100)), CHAIN_PAGES, 'the pinned chain survived');
  t.equal(await client.lookup(NS, keysOf(101)), CHAIN_PAGES, 'the leased chain survived');
  t.equal(await client.lookup(NS, keysOf(102)), CHAIN_PAGES, 'the chain read within the grace window survived');
  await raw.unary('admin', 'SetConfig', { key: 'evictionGraceMs', value: '0' });
});

t.test('when nothing is evictable a put is refused and says why', async (t) => {
  const raw = new RawClient((await cluster.leader()).address);
  t.teardown(() => raw.close());
  await raw.unary('admin', 'SetConfig', { key: 'evictionGraceMs', value: '600000' });
  // Every stored page is now inside the grace window once read.
  const stored = [...(await cluster.leader()).node.store.index.pagesOf()];
  const byNs = new Map<string, Uint8Array[]>();
  for (const page of stored) byNs.set(page.ns, [...(byNs.get(page.ns) ?? []), Buffer.from(page.keyId, 'latin1')]);
  for (const [ns, keys] of byNs) for (const k of keys) await client.lookup(ns, [k], { endpoint: (await cluster.leader()).address });
  const outcomes = await client.putPages(chainPages(300).slice(0, 1).map((p) => ({ ...p, data: new Uint8Array(8 * MIB).fill(3), meta: { ...p.meta, shape: [8 * MIB] } })));
  t.equal(outcomes[0]!.code, 'KVC_QUOTA_EXHAUSTED', 'refused');
  t.match(outcomes[0]!.message, /nothing more is evictable: \d+ candidate\(s\) pinned, \d+ leased by a recent lookup, \d+ looked up or read within the grace window/);
  await raw.unary('admin', 'SetConfig', { key: 'evictionGraceMs', value: '0' });
  const retry = await client.putPages(chainPages(300).slice(0, 1));
  t.equal(retry[0]!.code, '', 'accepted once pages are evictable again');
});

t.test('expired pages disappear on every member (page TTL and namespace default)', async (t) => {
  const raw = new RawClient((await cluster.leader()).address);
  t.teardown(() => raw.close());
  await client.putPages(chainPages(400, { ns: 'ttl/page', ttlMs: 300, bytes: 4096 }));
  await raw.unary('admin', 'SetNamespaceConfig', { namespace: 'ttl/ns', key: 'defaultTtlMs', value: '300' });
  await client.putPages(chainPages(401, { ns: 'ttl/ns', bytes: 4096 }));
  // Every page of both chains gone, not just the first: a chain's pages are created over a span,
  // so one expiry scan may take the head of a chain and leave its tail for the next scan.
  const left = (m: RunningMember): number => [...m.node.store.index.pagesOf('ttl/page')].length + [...m.node.store.index.pagesOf('ttl/ns')].length;
  await eventually(() => live().every((m) => left(m) === 0), 10_000, 'expiry on every member');
  for (const m of live()) t.equal(m.node.lookup('ttl/page', keysOf(400)) + m.node.lookup('ttl/ns', keysOf(401)), 0, `member ${m.id}: nothing found by Lookup`);
  const st = (await cluster.leader()).node.status();
  t.ok(st.expiredPages >= 2 * CHAIN_PAGES, `counted as expired (${st.expiredPages})`);
  const removals = await (await cluster.leader()).node.removals(0, 100_000);
  t.ok(removals.removals.some((r) => r.reason === 'expired' && r.ns === 'ttl/page'), 'in the removal record');
});

t.test('bad settings are refused with KVC_INVALID_CONFIG; a follower redirects', async (t) => {
  const leader = await cluster.leader();
  const raw = new RawClient(leader.address);
  t.teardown(() => raw.close());
  const bad: [string, string, RegExp][] = [
    ['budgetBytes', '1MiB', /at least one largest page|from one largest page/],
    ['lowWatermark', '0.95', /must be below highWatermark/],
    ['highWatermark', '1.5', /fraction in \(0, 1\]/],
    ['defaultTtlMs', '-5', /non-negative|whole ms/],
    ['defaultTtlMs', String(400 * 24 * 3600 * 1000), /whole ms from 0/],
    ['evictionGraceMs', 'soon', /not a number/],
    ['color', 'blue', /unknown key/],
  ];
  const before = leader.node.store.settings();
  for (const [key, value, message] of bad) {
    const error = (await raw.unary('admin', 'SetConfig', { key, value }).catch((e: CallError) => e)) as CallError;
    t.equal(error.kvcCode, 'KVC_INVALID_CONFIG', `${key}=${value}`);
    t.match(error.details, message, `${key}=${value}: says why`);
  }
  const quota = (await raw.unary('admin', 'SetNamespaceConfig', { namespace: 'bad ns!', key: 'quotaBytes', value: '64MiB' }).catch((e: CallError) => e)) as CallError;
  t.equal(quota.kvcCode, 'KVC_INVALID_NAMESPACE', 'a quota on an invalid namespace');
  t.same(leader.node.store.settings(), before, 'nothing changed');
  const lease = (await raw.unary('cache', 'Lookup', { namespace: NS, keys: [key(1, 1)], leaseMs: 3_600_000 }).catch((e: CallError) => e)) as CallError;
  t.equal(lease.kvcCode, 'KVC_INVALID_ARGUMENT', 'a huge lease');
  const pin = (await raw.unary('cache', 'PinPages', { namespace: NS, keys: [key(1, 1)], ttlMs: 0 }).catch((e: CallError) => e)) as CallError;
  t.equal(pin.kvcCode, 'KVC_INVALID_ARGUMENT', 'a pin of 0 ms');
  const follower = new RawClient(cluster.followers()[0]!.address);
  t.teardown(() => follower.close());
  const redirected = (await follower.unary('admin', 'SetConfig', { key: 'budgetBytes', value: '64MiB' }).catch((e: CallError) => e)) as CallError;
  t.equal(redirected.kvcCode, 'KVC_NOT_LEADER', 'a follower redirects');
  t.equal(redirected.leader, leader.address, 'to the leader');
});

t.test('namespace quota: evicts inside the namespace first', async (t) => {
  const raw = new RawClient((await cluster.leader()).address);
  t.teardown(() => raw.close());
  // A quota is at least one largest page (32 MiB); a larger budget leaves the quota to bind first.
  await raw.unary('admin', 'SetConfig', { key: 'budgetBytes', value: '96MiB' });
  await raw.unary('admin', 'SetNamespaceConfig', { namespace: 'quota/a', key: 'quotaBytes', value: '32MiB' });
  await client.putPages(chainPages(500, { ns: NS, bytes: 64 * 1024 }));
  for (let chain = 501; chain < 510; chain++) {
    const outcomes = await client.putPages(chainPages(chain, { ns: 'quota/a' }));
    t.same(outcomes.map((o) => o.code), outcomes.map(() => ''), `chain ${chain} accepted`);
  }
  const leader = await cluster.leader();
  t.ok(leader.node.store.namespaceBytes('quota/a') <= 32 * MIB, 'the namespace stays within its quota');
  t.ok(leader.node.store.namespaces().find((info) => info.ns === 'quota/a')!.evictedPages > 0, 'evictions counted in the namespace');
  await waitSameApplied();
  t.equal(await client.lookup(NS, keysOf(500)), CHAIN_PAGES, 'another namespace was not touched for it');
});

t.test('a GetPages that began sending a page sends it whole though the page is deleted meanwhile', async (t) => {
  const pageBytes = 4 * MIB;
  const pages = chainPages(700, { bytes: pageBytes }).slice(0, 2);
  t.same((await client.putPages(pages)).map((o) => o.code), ['', '']);
  const leader = await cluster.leader();
  const raw = new RawClient(leader.address);
  t.teardown(() => raw.close());
  const method = RawClient.method('cache', 'GetPages');
  const call = raw.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: NS, keys: keysOf(700).slice(0, 2) });
  const chunks: { data: Buffer; last: boolean; offset: number }[] = [];
  let deleted = false;
  const ended = new Promise<Error | undefined>((resolve) => {
    call.on('data', (chunk: { data: Buffer; last: boolean; offset: number }) => {
      chunks.push(chunk);
      if (!deleted) {
        deleted = true;
        call.pause();
        // Both pages go while the first is half sent; the stream resumes once the delete applied.
        void client.deletePages(NS, keysOf(700).slice(0, 2)).then(() => call.resume());
      }
    });
    call.on('error', resolve);
    call.on('end', () => resolve(undefined));
  });
  const error = (await ended) as (Error & { code?: number }) | undefined;
  const first = Buffer.concat(chunks.filter((_, i) => i < chunks.findIndex((c) => c.last) + 1).map((c) => c.data));
  t.equal(first.byteLength, pageBytes, 'the first page arrived whole');
  t.ok(first.equals(Buffer.from(pages[0]!.data)), 'and intact');
  t.ok(error === undefined || error.code === 5, 'the second page was sent whole or reported NOT_FOUND');
});

t.test('a member that was down catches up by snapshot and agrees on settings and evictions', async (t) => {
  const leader = await cluster.leader();
  const down = cluster.followers()[0]!;
  await down.stop();
  const raw = new RawClient(leader.address);
  t.teardown(() => raw.close());
  await raw.unary('admin', 'SetConfig', { key: 'budgetBytes', value: '48MiB' });
  await putChains(600, 8);
  await leader.node.compactNow();
  const restarted = await cluster.start(down.id);
  await eventually(() => restarted.node.status().appliedIndex >= leader.node.status().appliedIndex, 20_000, 'the restarted member to catch up');
  const all = await digests();
  t.equal(restarted.node.store.settings().budgetBytes, 48 * MIB, 'the changed budget');
  t.equal(restarted.node.status().evictedPages, leader.node.status().evictedPages, 'the same eviction count');
  t.equal(new Set(all).size, 1, 'every member reports the same digest');
  // Payloads that survived are intact everywhere.
  for await (const page of client.getPages(NS, keysOf(607))) t.equal(page.meta.crc32c, crc32c(page.data));
});
