// Proves the Watch feed and ListPages against a real 3-member cluster in one process
// (startCluster: real gRPC on 127.0.0.1, real WALs and LevelDBs, 10 ms ticks), through the
// client library: a watcher sees every page-set change exactly once and in log order — puts,
// deletes, evictions, TTL expiry, a namespace drop — while the member it reads from is stopped
// and restarted and leadership moves, and the page set it rebuilds equals each member's
// (Status pages_digest at the same applied index); a listing taken while puts run plus the feed
// from its watchFromIndex is exact; a restarted member's window starts at its recovered index
// (KVC_WATCH_COMPACTED with the oldest index); a slow reader is cut (KVC_WATCH_TOO_SLOW) and the
// client resumes without a gap; and every bad input answers its coded error.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { KvcClient, pageSetDigest, type KvcClientError, type PageInput, type WatchEvent } from '../../src/client/index.js';
import { RawClient, eventually, pageBytes, pageKey, startCluster, type CallError } from './helpers.js';

const NS = 'watch-test';
const OTHER = 'watch-other';
const PAGE_BYTES = 4 * 1024;
const WAIT_MS = 15_000;

function page(ns: string, i: number, parent?: number, ttlMs?: number): PageInput {
  const meta = { namespace: ns, key: pageKey(i), dtype: 'u8' as const, shape: [PAGE_BYTES], tokens: 16 };
  return { meta: { ...meta, ...(parent === undefined ? {} : { parentKey: pageKey(parent) }), ...(ttlMs === undefined ? {} : { ttlMs }) }, data: pageBytes(i, PAGE_BYTES) };
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** A page set rebuilt from a listing and events, and the log of events it was rebuilt from. */
class Replica {
  readonly pages = new Map<string, { ns: string; key: Uint8Array; parentKey: Uint8Array; bytes: number; tokens: number }>();
  readonly events: WatchEvent[] = [];
  progress = 0;

  apply(e: WatchEvent): void {
    this.events.push(e);
    if (e.type === 'progress') this.progress = Math.max(this.progress, e.index);
    else if (e.type === 'stored') this.pages.set(`${e.namespace}/${hex(e.key)}`, { ns: e.namespace, key: e.key, parentKey: e.parentKey, bytes: e.bytes, tokens: e.tokens });
    else if (e.type === 'removed') this.pages.delete(`${e.namespace}/${hex(e.key)}`);
    else for (const [id, p] of this.pages) if (p.ns === e.namespace) this.pages.delete(id);
  }

  digest(): string {
    return pageSetDigest([...this.pages.values()].map((p) => ({ ...p, parentKey: p.parentKey.byteLength === 0 ? undefined : p.parentKey })));
  }

  /** Changes (not progress) in order: indexes never go back, and no change is seen twice. */
  checkOrder(t: Test): void {
    const changes = this.events.filter((e) => e.type !== 'progress');
    const seen = new Set<string>();
    let last = 0;
    let ordered = true;
    let unique = true;
    for (const e of changes) {
      if (e.index < last) ordered = false;
      last = e.index;
      const id = `${e.index}/${e.type}/${e.namespace}/${hex(e.key)}`;
      if (seen.has(id)) unique = false;
      seen.add(id);
    }
    t.ok(ordered, `${changes.length} changes arrive in log order`);
    t.ok(unique, 'no change arrives twice');
  }
}

/** Consumes client.watch into `replica` until `stop` is aborted. */
function consume(client: KvcClient, replica: Replica, o: Parameters<KvcClient['watch']>[0], gate?: () => Promise<void>): { stop: AbortController; done: Promise<void>; resumes: KvcClientError[] } {
  const stop = new AbortController();
  const resumes: KvcClientError[] = [];
  const done = (async () => {
    for await (const e of client.watch({ ...o, signal: stop.signal, onResume: (info) => resumes.push(info.error) })) {
      replica.apply(e);
      if (gate !== undefined) await gate();
    }
  })();
  return { stop, done, resumes };
}

t.test('Watch and ListPages on a real cluster', async (t) => {
  const cluster = await startCluster([1, 2, 3], { node: { tickMs: 10, fsync: false, watchRing: { eventsMax: 10_000, lagEventsMax: 100, watchersMax: 8, messageEventsMax: 1 } } });
  t.teardown(() => cluster.stopAll());
  await cluster.leader();
  const addresses = [...cluster.members.values()].map((m) => m.address);
  const client = new KvcClient({ endpoints: addresses, retries: 10 });
  t.teardown(() => client.close());

  /** Every member's page-set digest equals the replica's once all have applied what it saw. */
  async function sameOnEveryMember(t: Test, replica: Replica): Promise<void> {
    const appliedAll = async (): Promise<number[]> => (await Promise.all([...cluster.members.values()].map((m) => client.status(m.address)))).map((s) => s.appliedIndex);
    await eventually(async () => {
      const applied = await appliedAll().catch(() => [0]);
      return applied.every((a) => a === applied[0]) && replica.progress >= applied[0]!;
    }, WAIT_MS, 'every member and the watcher at the same index');
    for (const m of cluster.members.values()) {
      const st = await client.status(m.address, { includeDigest: true });
      t.equal(st.pagesDigest, replica.digest(), `member ${m.id}: its page set at ${st.pagesDigestIndex} is the one the feed rebuilt`);
      t.equal(st.pagesDigestIndex, replica.progress, `member ${m.id}: at the index the feed reached`);
    }
  }

  await t.test('every change once, in order, across a member restart, a leader change, eviction, expiry and a drop', async (t) => {
    await client.setConfig('evictionGraceMs', '0');
    const start = await client.listAllPages();
    const replica = new Replica();
    for (const p of start.pages) replica.apply({ type: 'stored', index: 0, namespace: p.namespace, key: p.key, parentKey: p.parentKey, bytes: p.bytes, tokens: p.tokens, crc32c: 0, endpoint: '' });
    replica.events.length = 0;
    const follower = cluster.followers()[0]!;
    const watcher = consume(client, replica, { fromIndex: start.watchFromIndex, endpoint: follower.address });

    await client.putPages(Array.from({ length: 20 }, (_, i) => page(NS, i, i === 0 ? undefined : i - 1)));
    await client.putPages(Array.from({ length: 5 }, (_, i) => page(OTHER, 100 + i)));
    await client.putPages([page(NS, 0)]); // Already stored: no event.
    await client.deletePages(NS, [pageKey(18), pageKey(19)]);
    await eventually(() => replica.events.some((e) => e.type === 'removed'), WAIT_MS, 'the deletes on the feed');

    // The member the watcher reads from goes away and comes back; then leadership moves.
    await follower.stop();
    await client.putPages(Array.from({ length: 5 }, (_, i) => page(NS, 200 + i)));
    const restarted = await cluster.start(follower.id);
    const leader = await cluster.leader();
    const next = [...cluster.members.values()].find((m) => m !== leader && m.id !== follower.id)!;
    await client.transferLeader(next.id);
    await eventually(() => next.node.isLeader(), WAIT_MS, 'the new leader');
    await client.putPages([page(NS, 300, undefined, 50)]);

    // A restarted member's window starts at the index it recovered to.
    const raw = new RawClient(restarted.address);
    const compacted = await raw.serverStream('cache', 'Watch', { namespace: '', fromIndex: 1 });
    t.equal(compacted.error?.kvcCode, 'KVC_WATCH_COMPACTED', 'a restarted member no longer has index 1');
    t.ok(Number(compacted.error?.metadata.get('kvc-oldest-index')[0]) > 1, 'and names the oldest index it has');
    raw.client.close();
    const alone = new KvcClient({ endpoints: [restarted.address] });
    await t.rejects(alone.watch({ fromIndex: 1 }).next(), { code: 'KVC_WATCH_COMPACTED', oldestIndex: Number }, 'the client gives up once every member it knows lacks the index');
    alone.close();

    // Eviction: puts past the namespace's quota make the leader evict ahead of them.
    await client.setNamespaceConfig(OTHER, 'quotaBytes', String(8 * PAGE_BYTES));
    await client.putPages(Array.from({ length: 6 }, (_, i) => page(OTHER, 400 + i)));
    await eventually(() => replica.events.some((e) => e.reason === 'evicted'), WAIT_MS, 'evictions on the feed');
    await eventually(() => replica.events.some((e) => e.reason === 'expired'), WAIT_MS, 'the expiry on the feed');
    await client.dropNamespace(OTHER);
    await eventually(() => replica.events.some((e) => e.type === 'namespace_dropped'), WAIT_MS, 'the drop on the feed');

    await sameOnEveryMember(t, replica);
    watcher.stop.abort();
    await watcher.done;
    replica.checkOrder(t);
    t.ok(watcher.resumes.length >= 1, `the watcher resumed (${watcher.resumes.map((e) => e.code).join(', ')})`);
    t.equal(replica.events.filter((e) => e.type === 'stored' && e.namespace === NS && hex(e.key) === hex(pageKey(0))).length, 1, 'a put of a stored page is no event');
    const reasons = new Set<string>(replica.events.map((e) => e.reason ?? e.type));
    for (const kind of ['stored', 'deleted', 'evicted', 'expired', 'namespace_dropped', 'progress']) t.ok(reasons.has(kind), `the feed carried ${kind}`);
  });

  await t.test('a listing taken while puts run, plus the feed from its watchFromIndex, is exact', async (t) => {
    const writes = (async () => {
      for (let b = 0; b < 10; b++) await client.putPages(Array.from({ length: 5 }, (_, i) => page(NS, 1000 + b * 5 + i)));
      await client.deletePages(NS, [pageKey(1000), pageKey(1001)]);
    })();
    const parts: Awaited<ReturnType<KvcClient['listPages']>>[] = [await client.listPages({ limit: 4 })];
    while (parts.at(-1)!.nextPageToken !== '') parts.push(await client.listPages({ limit: 4, pageToken: parts.at(-1)!.nextPageToken, endpoint: parts[0]!.endpoint }));
    t.ok(parts.length > 1, `the listing came in ${parts.length} parts`);
    t.equal(parts.at(-1)!.watchFromIndex, parts[0]!.appliedIndex + 1, 'the watch starts after the first part');
    const replica = new Replica();
    for (const p of parts.flatMap((part) => part.pages)) replica.apply({ type: 'stored', index: 0, namespace: p.namespace, key: p.key, parentKey: p.parentKey, bytes: p.bytes, tokens: p.tokens, crc32c: 0, endpoint: '' });
    const watcher = consume(client, replica, { fromIndex: parts[0]!.watchFromIndex });
    await writes;
    await sameOnEveryMember(t, replica);
    watcher.stop.abort();
    await watcher.done;
  });

  await t.test('a slow reader is cut off and the client resumes where it stopped', async (t) => {
    // A small receive window makes the member's writes block soon after the reader stops.
    const slow = new KvcClient({ endpoints: addresses, channelOptions: { 'grpc-node.flow_control_window': 65_535 } });
    t.teardown(() => slow.close());
    const leader = await cluster.leader();
    const replica = new Replica();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const watcher = consume(slow, replica, { namespace: NS, endpoint: leader.address }, () => (replica.events.length === 1 ? released : Promise.resolve()));
    await eventually(() => replica.events.length === 1, WAIT_MS, 'the first event');
    const keys = Array.from({ length: 2000 }, (_, i) => 5000 + i);
    for (let b = 0; b < keys.length; b += 200) {
      await client.putPages(keys.slice(b, b + 200).map((i) => ({ meta: { namespace: NS, key: pageKey(i), dtype: 'u8' as const, shape: [16], tokens: 1 }, data: pageBytes(i, 16) })));
    }
    await eventually(async () => (await client.status(leader.address)).watch!.watchers === 0, WAIT_MS, 'the slow stream cut off');
    release();
    await eventually(() => keys.every((k) => replica.pages.has(`${NS}/${hex(pageKey(k))}`)), WAIT_MS, 'every put on the feed after the resume');
    watcher.stop.abort();
    await watcher.done;
    t.ok(watcher.resumes.some((e) => e.code === 'KVC_WATCH_TOO_SLOW'), 'cut with KVC_WATCH_TOO_SLOW');
    replica.checkOrder(t);
  });

  await t.test('bad input answers its coded error', async (t) => {
    const member = [...cluster.members.values()][0]!;
    const raw = new RawClient(member.address);
    t.teardown(() => raw.client.close());
    const watchError = async (request: object): Promise<CallError | undefined> => (await raw.serverStream('cache', 'Watch', request)).error;
    t.match(await watchError({ namespace: '', fromIndex: -1 }), { code: grpc.status.INVALID_ARGUMENT, kvcCode: 'KVC_INVALID_ARGUMENT' }, 'a negative from_index');
    t.match(await watchError({ namespace: 'bad namespace!', fromIndex: 0 }), { code: grpc.status.INVALID_ARGUMENT, kvcCode: 'KVC_INVALID_NAMESPACE' });
    t.match(await watchError({ namespace: '', fromIndex: 1e12 }), { code: grpc.status.INVALID_ARGUMENT, kvcCode: 'KVC_WATCH_FUTURE_INDEX' }, 'an index no log has reached');
    await t.rejects(client.watch({ fromIndex: -1 }).next(), RangeError, 'the client refuses a negative index itself');
    // An index just ahead of the member is waited for (briefly) rather than refused.
    const ahead = (await client.status(member.address)).appliedIndex + 2;
    const method = RawClient.method('cache', 'Watch');
    const started = raw.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: '', fromIndex: ahead }, new grpc.Metadata(), {});
    started.on('error', () => undefined);
    const firstMessage = once(started, 'data') as Promise<[{ events: { index: number }[] }]>;
    await client.putPages([page(NS, 9000)]);
    await client.putPages([page(NS, 9001)]);
    t.ok((await firstMessage)[0].events[0]!.index >= ahead - 1, 'a stream from an index that arrived within the wait starts (progress at ahead - 1, or the change at ahead)');
    started.cancel();

    const listError = (request: object): Promise<CallError | undefined> => raw.unary('cache', 'ListPages', request).then(() => undefined, (e: CallError) => e);
    for (const token of ['garbage', Buffer.from('[1,"",5,"ns","zz"]').toString('base64url'), Buffer.from('[2,"",5,"ns","0011223344556677"]').toString('base64url')]) {
      t.match(await listError({ namespace: '', pageToken: token }), { code: grpc.status.INVALID_ARGUMENT, kvcCode: 'KVC_INVALID_PAGE_TOKEN' }, `token ${token}`);
    }
    const first = await client.listPages({ namespace: NS, limit: 1, endpoint: member.address });
    t.match(await listError({ namespace: OTHER, pageToken: first.nextPageToken }), { kvcCode: 'KVC_INVALID_PAGE_TOKEN' }, "another namespace's token");

    // Too many watchers on one member (watchersMax 8 in this cluster).
    const calls = Array.from({ length: 8 }, () => {
      const method = RawClient.method('cache', 'Watch');
      const call = raw.client.makeServerStreamRequest(method.path, method.requestSerialize, method.responseDeserialize, { namespace: '', fromIndex: 0 }, new grpc.Metadata(), {});
      call.on('error', () => undefined);
      call.on('data', () => undefined);
      return call;
    });
    await eventually(async () => (await client.status(member.address)).watch!.watchers === 8, WAIT_MS, 'eight watchers');
    t.match(await watchError({ namespace: '', fromIndex: 0 }), { code: grpc.status.RESOURCE_EXHAUSTED, kvcCode: 'KVC_TOO_MANY_WATCHERS' }, 'the ninth');
    for (const call of calls) call.cancel();
    await eventually(async () => (await client.status(member.address)).watch!.watchers === 0, WAIT_MS, 'cancelled streams leave');
  });
});
