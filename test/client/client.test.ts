// Proves KvcClient's contract against real gRPC servers (test/client/canned-server.ts: grpc-js on
// 127.0.0.1 port 0, same protos, controllable behaviour): puts stream ≤ 1 MiB chunks with the
// metadata on the first and the client-computed bytes and crc32c; writes find the leader through
// `kvcache-leader` redirects and back off (bounded) while there is none; reads rotate over the
// members, survive a dead member and a lagging one, and come back byte-identical through the async
// iterator and into a caller's buffer; every damaged GetPages stream (gap, truncation, corruption,
// wrong key, missing meta, short stream) is caught, and healed by another replica when one is
// allowed; deadlines hold; an ambiguous put failure is retried safely, a non-idempotent admin call
// is not; concurrent lookups travel in shared calls (a burst shared evenly by the calls in flight)
// yet each caller gets its own answer or error;
// several connections per member are used in turn; server errors surface with their kvc-code; answers that contradict the request (more
// matches than keys, a missing put result) are refused; admin calls carry the token and
// clusterStatus discovers members from one address. Each case uses its own small cluster.

import t, { type Test } from 'tap';
import * as grpc from '@grpc/grpc-js';
import { crc32c } from '../../src/codec/index.js';
import { LIMITS } from '../../src/limits.js';
import {
  CLIENT_CHANNEL_OPTIONS,
  KvcClient,
  KvcClientError,
  hashBlocks,
  type ClientOptions,
  type PageInput,
} from '../../src/client/index.js';
import { backoffMs, decide } from '../../src/client/retry.js';
import { CannedCluster } from './canned-server.js';

const NS = 'test-model';
const MIB = 1024 * 1024;
const KEYS = hashBlocks(Array.from({ length: 16 * 40 }, (_, i) => i), { blockTokens: 16, namespace: NS });

function pageBytes(index: number, size: number): Uint8Array {
  const data = new Uint8Array(size);
  for (let i = 0; i < size; i++) data[i] = (i * 31 + index * 7) & 0xff;
  return data;
}

function page(index: number, size: number): PageInput {
  return {
    meta: { namespace: NS, key: KEYS[index]!, dtype: 'u8', shape: [size], tokens: 16, ...(index > 0 ? { parentKey: KEYS[index - 1]! } : {}) },
    data: pageBytes(index, size),
  };
}

async function setup(t: Test, size = 3, options: Partial<ClientOptions> = {}, endpointIds?: number[]) {
  const cluster = await CannedCluster.start(size);
  const endpoints = (endpointIds ?? cluster.members.map((m) => m.id)).map((id) => cluster.member(id).address);
  const client = new KvcClient({ endpoints, backoffBaseMs: 5, backoffMaxMs: 20, ...options });
  t.teardown(() => {
    client.close();
    cluster.stopAll();
  });
  return { cluster, client };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b));

t.test('channel options are explicit and come from LIMITS', async (t) => {
  t.equal(CLIENT_CHANNEL_OPTIONS['grpc.max_receive_message_length'], LIMITS.rpc.clientMessageBytesMax);
  t.equal(CLIENT_CHANNEL_OPTIONS['grpc.max_send_message_length'], LIMITS.rpc.clientMessageBytesMax);
  t.equal(CLIENT_CHANNEL_OPTIONS['grpc-node.flow_control_window'], LIMITS.rpc.flowControlWindowBytes);
});

t.test('a put through a follower is redirected to the leader and streamed in ≤ 1 MiB chunks', async (t) => {
  const { cluster, client } = await setup(t, 3, {}, [2]);
  const pages = [page(0, 2.5 * MIB), page(1, 100), page(2, 0), page(3, MIB)];
  const outcomes = await client.putPages(pages);
  t.same(outcomes.map((o) => o.code), ['', '', '', ''], 'every page stored');
  t.ok(outcomes.every((o, i) => same(o.key, KEYS[i]!)), 'outcomes in page order');
  t.equal(client.leader, cluster.member(1).address, 'the client learned the leader from the trailer');
  t.equal(cluster.member(2).count('PutPages'), 1, 'the follower was asked once');
  t.equal(cluster.member(1).count('PutPages'), 1, 'then the leader');
  const messages = cluster.member(1).putMessages;
  t.same(messages.map((m) => m.data.byteLength), [MIB, MIB, MIB / 2, 100, 0, MIB], 'chunks of at most 1 MiB, one per empty page');
  t.same(messages.map((m) => m.last), [false, false, true, true, true, true], 'last marks each page end');
  t.same(messages.map((m) => m.meta !== null && m.meta !== undefined), [true, false, false, true, true, true], 'meta on first chunks only');
  const first = messages[0]!.meta!;
  t.equal(first.bytes, 2.5 * MIB, 'bytes computed by the client');
  t.equal(first.crc32c, crc32c(pages[0]!.data), 'crc32c computed by the client');
  t.same([first.dtype, first.shape, first.tokens, first.storeDtype], ['U8', [2.5 * MIB], 16, 'DTYPE_UNSPECIFIED']);
  t.ok(same(messages[3]!.meta!.parentKey, KEYS[0]!), 'parent key sent');
  await client.putPages([page(4, 10)]);
  t.equal(cluster.member(2).count('PutPages'), 1, 'later writes go straight to the leader');
});

t.test('gets are byte-identical through the iterator, into a buffer, and from every member', async (t) => {
  const { cluster, client } = await setup(t);
  const sizes = [2.5 * MIB, 300, 0, MIB, 4096];
  await client.putPages(sizes.map((size, i) => page(i, size)));
  const keys = KEYS.slice(0, sizes.length);
  for (const member of cluster.members) {
    const pages = await collect(client.getPages(NS, keys, { endpoint: member.address }));
    t.equal(pages.length, sizes.length, `member ${member.id} streams every page`);
    t.ok(pages.every((p, i) => same(p.data, pageBytes(i, sizes[i]!)) && same(p.meta.key, keys[i]!)), `member ${member.id} bytes identical`);
    t.ok(pages.every((p) => p.data.byteOffset === 0 && p.data.buffer.byteLength === p.meta.bytes), 'each page owns exactly its buffer');
  }
  const [meta] = (await collect(client.getPages(NS, keys.slice(1, 2)))).map((p) => p.meta);
  t.same({ ...meta, key: undefined, parentKey: undefined }, {
    namespace: NS, key: undefined, parentKey: undefined, dtype: 'u8', shape: [300], tokens: 16, bytes: 300,
    crc32c: crc32c(pageBytes(1, 300)), ttlMs: 0, createdAtMs: 1_700_000_000_000,
  }, 'metadata decoded');
  t.ok(same(meta!.parentKey!, keys[0]!), 'parent key decoded');

  const total = sizes.reduce((a, b) => a + b, 0);
  const target = new Uint8Array(total + 10);
  const into = await client.getPagesInto(NS, keys, target);
  t.equal(into.bytes, total);
  t.same(into.pages.map((p) => p.bytes), sizes);
  let offset = 0;
  sizes.forEach((size, i) => {
    t.ok(same(target.subarray(offset, offset + size), pageBytes(i, size)), `page ${i} written at offset ${offset}`);
    offset += size;
  });
  await t.rejects(client.getPagesInto(NS, keys, new Uint8Array(total - 1)), RangeError, 'a short buffer is refused');
});

t.test('reads rotate over the members; lookup finds the prefix before a hole', async (t) => {
  const { cluster, client } = await setup(t);
  await client.putPages([0, 1, 2, 4, 5].map((i) => page(i, 64)));
  for (let i = 0; i < 6; i++) t.equal(await client.lookup(NS, KEYS.slice(0, 8)), 3, 'three pages before the hole at 3');
  t.same(cluster.members.map((m) => m.count('Lookup')), [2, 2, 2], 'lookups spread round-robin');
  t.equal(await client.lookup(NS, KEYS.slice(0, 3), { linearizable: true }), 3);
  t.equal(await client.lookup(NS, []), 0, 'no keys, no match');
  t.equal(await client.lookup('other-ns', KEYS.slice(0, 3)), 0, 'namespaces are separate');
});

t.test('concurrent lookups travel together, each answered alone; a bad key or an old member fails nobody else', async (t) => {
  const { cluster, client } = await setup(t, 1);
  await client.putPages([0, 1, 2, 4, 5].map((i) => page(i, 64)));
  const member = cluster.member(1);
  const stored = new Set([0, 1, 2, 4, 5]);
  const prefixFrom = (first: number, length: number): number => {
    let matched = 0;
    while (matched < length && stored.has(first + matched)) matched++;
    return matched;
  };
  t.equal(await client.lookup(NS, KEYS.slice(0, 8)), 3, 'a lone lookup');
  t.same(member.lookupPrompts, [1], 'is sent at once, alone');
  const firsts = Array.from({ length: 40 }, (_, i) => i % 6);
  const concurrent = async (): Promise<number[]> => Promise.all(firsts.map((first) => client.lookup(NS, KEYS.slice(first, first + 4))));
  t.same(await concurrent(), firsts.map((first) => prefixFrom(first, 4)), '40 concurrent callers each get their own prefix');
  t.same(member.lookupPrompts.slice(1), [20, 20], 'issued together: shared evenly by the two calls in flight, one round trip');
  const bad = [new Uint8Array(3)];
  const settled = await Promise.allSettled([...firsts.slice(0, 10).map((first) => client.lookup(NS, KEYS.slice(first, first + 4))), client.lookup(NS, bad)]);
  t.same(settled.slice(0, 10).map((s) => (s.status === 'fulfilled' ? s.value : s.reason)), firsts.slice(0, 10).map((first) => prefixFrom(first, 4)), 'a bad key fails nobody else');
  t.match(settled[10], { status: 'rejected', reason: { code: 'KVC_INVALID_KEY' } }, 'but its own caller');
  member.ignoresMorePrompts = true;
  t.same(await concurrent(), firsts.map((first) => prefixFrom(first, 4)), 'a member without more_prompts: asked prompt by prompt');
});

t.test('several connections per member: calls rotate over them; bad counts are refused', async (t) => {
  const { cluster, client } = await setup(t, 1, { connectionsPerMember: 3, lookupCallsMax: 8, channelOptions: { 'grpc-node.flow_control_window': 4 * MIB } });
  await Promise.all(Array.from({ length: 6 }, () => client.lookup(NS, KEYS.slice(0, 2))));
  t.equal(cluster.member(1).peers.size, 3, 'three connections to the one member');
  t.throws(() => new KvcClient({ endpoints: ['127.0.0.1:1'], connectionsPerMember: 0 }), RangeError);
  t.throws(() => new KvcClient({ endpoints: ['127.0.0.1:1'], connectionsPerMember: 17 }), RangeError);
  t.throws(() => new KvcClient({ endpoints: ['127.0.0.1:1'], lookupCallsMax: 0 }), RangeError);
});

t.test('more keys than one request holds are split, and the prefix counts across batches', async (t) => {
  const { cluster, client } = await setup(t, 1);
  const many = hashBlocks(Array.from({ length: 10_000 }, (_, i) => i), { blockTokens: 1, namespace: NS });
  for (const key of many.slice(0, 9_000)) cluster.store({ meta: { ...page(0, 0).meta, key, parentKey: new Uint8Array(), dtype: 'U8', bytes: 0, crc32c: 0, ttlMs: 0, storeDtype: 'DTYPE_UNSPECIFIED', createdAtMs: 0 } as never, data: Buffer.alloc(0) });
  t.equal(await client.lookup(NS, many), 9_000, 'matched spans the batch boundary');
  t.equal(cluster.member(1).count('Lookup'), 2, 'two requests of at most 8192 keys');
  const tiny = many.slice(0, 8_200).map((key) => ({ meta: { namespace: 'tiny', key, dtype: 'u8' as const, shape: [1], tokens: 1 }, data: new Uint8Array([key[0]!]) }));
  const outcomes = await client.putPages(tiny);
  t.ok(outcomes.length === 8_200 && outcomes.every((o, i) => o.code === '' && same(o.key, many[i]!)), '8200 outcomes in order');
  t.equal(cluster.member(1).count('PutPages'), 2, 'sent as two streams of at most 8192 pages');
  t.equal(await client.lookup('tiny', many.slice(0, 8_200)), 8_200);
});

t.test('a missing page: KVC_NOT_FOUND after the pages before it, or a partial result', async (t) => {
  const { client } = await setup(t, 1);
  await client.putPages([0, 1, 3].map((i) => page(i, 128)));
  const got: number[] = [];
  const error = await (async () => {
    try {
      for await (const p of client.getPages(NS, KEYS.slice(0, 4))) got.push(KEYS.findIndex((k) => same(k, p.meta.key)));
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  t.same(got, [0, 1], 'pages before the hole were delivered');
  t.ok(error instanceof KvcClientError && error.code === 'KVC_NOT_FOUND' && error.grpcCode === grpc.status.NOT_FOUND, 'then KVC_NOT_FOUND');
  t.equal((await collect(client.getPages(NS, KEYS.slice(0, 4), { allowPartial: true }))).length, 2, 'allowPartial ends quietly');
  const target = new Uint8Array(1024);
  const partial = await client.getPagesInto(NS, KEYS.slice(0, 4), target, { allowPartial: true });
  t.same([partial.pages.length, partial.bytes], [2, 256]);
});

t.test('a lagging replica and a dead member do not fail a read', async (t) => {
  const { cluster, client } = await setup(t);
  await client.putPages([0, 1, 2].map((i) => page(i, 1000)));
  const lagging = cluster.member(2);
  lagging.hidden.add(`${NS}/${Buffer.from(KEYS[1]!).toString('hex')}`);
  for (let i = 0; i < 3; i++) {
    const pages = await collect(client.getPages(NS, KEYS.slice(0, 3)));
    t.ok(pages.length === 3 && pages.every((p, j) => same(p.data, pageBytes(j, 1000))), `read ${i} complete`);
  }
  t.ok(lagging.count('GetPages') >= 1, 'the lagging member was asked and its gap filled elsewhere');
  cluster.member(3).stop();
  for (let i = 0; i < 3; i++) t.equal((await collect(client.getPages(NS, KEYS.slice(0, 3)))).length, 3, `read ${i} with member 3 down`);
  t.equal(await client.lookup(NS, KEYS.slice(0, 3)), 3);
});

t.test('damaged GetPages streams are caught, and healed by another member', async (t) => {
  const expected: Record<string, string> = {
    gap: 'KVC_PROTOCOL',
    truncate: 'KVC_INCOMPLETE_PAGE',
    corrupt: 'KVC_CHECKSUM_MISMATCH',
    short: 'KVC_PROTOCOL',
    'wrong-key': 'KVC_PROTOCOL',
    'no-meta': 'KVC_PROTOCOL',
  };
  const { cluster, client } = await setup(t, 2);
  await client.putPages([page(0, 2.5 * MIB), page(1, 2.5 * MIB)]);
  const bad = cluster.member(2);
  for (const [fault, code] of Object.entries(expected)) {
    bad.streamFault = fault as never;
    await t.rejects(collect(client.getPages(NS, KEYS.slice(0, 2), { endpoint: bad.address })), { code }, `${fault} → ${code}`);
    const healed = await collect(client.getPages(NS, KEYS.slice(0, 2)));
    t.ok(healed.length === 2 && healed.every((p, i) => same(p.data, pageBytes(i, 2.5 * MIB))), `${fault}: failover reads good bytes`);
  }
  bad.streamFault = 'corrupt';
  const unchecked = new KvcClient({ endpoints: [bad.address], verifyChecksums: false });
  t.teardown(() => unchecked.close());
  const [corrupt] = await collect(unchecked.getPages(NS, KEYS.slice(0, 1)));
  t.not(corrupt!.data[0], pageBytes(0, 1)[0], 'with verifyChecksums off the damaged bytes pass (the check is what caught them)');
});

t.test('stopping a get early cancels the stream cleanly', async (t) => {
  const { cluster, client } = await setup(t, 1);
  await client.putPages([0, 1, 2, 3].map((i) => page(i, 2 * MIB)));
  for await (const p of client.getPages(NS, KEYS.slice(0, 4))) {
    t.ok(same(p.data, pageBytes(0, 2 * MIB)));
    break;
  }
  t.equal(await client.lookup(NS, KEYS.slice(0, 4)), 4, 'the client keeps working');
  t.equal(cluster.member(1).count('GetPages'), 1);
});

t.test('with no leader, writes back off and succeed once one is elected; bounded otherwise', async (t) => {
  const { cluster, client } = await setup(t, 3, { retries: 8, backoffBaseMs: 20, backoffMaxMs: 100 });
  cluster.leaderId = undefined;
  setTimeout(() => (cluster.leaderId = 3), 150);
  const started = Date.now();
  t.same((await client.putPages([page(0, 10)])).map((o) => o.code), ['']);
  t.ok(Date.now() - started >= 140, 'waited for the election');
  t.equal(client.leader, cluster.member(3).address);

  cluster.leaderId = undefined;
  const before = cluster.member(1).count('PutPages');
  const bounded = new KvcClient({ endpoints: [cluster.member(1).address], retries: 3, backoffBaseMs: 10, backoffMaxMs: 40, leaderWaitMs: 0 });
  t.teardown(() => bounded.close());
  const error = await bounded.putPages([page(1, 10)]).catch((e: unknown) => e);
  t.ok(error instanceof KvcClientError && error.code === 'KVC_NO_LEADER' && error.attempts === 4, 'KVC_NO_LEADER after 1 + 3 attempts');
  t.equal(cluster.member(1).count('PutPages') - before, 4, 'each attempt reached the member');
});

t.test('when the leader dies, followers naming it are not followed there; the election is waited out without spending retries', async (t) => {
  const { cluster, client } = await setup(t, 3, { retries: 2 });
  t.same((await client.putPages([page(0, 10)])).map((o) => o.code), ['']);
  t.equal(client.leader, cluster.member(1).address);
  // Members 2 and 3 still name member 1 (as followers do until their election timeout), then 3 wins.
  cluster.member(1).stop();
  setTimeout(() => (cluster.leaderId = 3), 200);
  const started = Date.now();
  t.same((await client.putPages([page(1, 10)])).map((o) => o.code), [''], 'more refusals than retries, yet it succeeds');
  t.ok(Date.now() - started >= 190, 'waited for the election');
  t.equal(client.leader, cluster.member(3).address);

  cluster.leaderId = undefined;
  const bounded = new KvcClient({ endpoints: [cluster.member(2).address], retries: 1, backoffBaseMs: 5, backoffMaxMs: 10, leaderWaitMs: 100 });
  t.teardown(() => bounded.close());
  const waitStarted = Date.now();
  const error = await bounded.putPages([page(2, 10)]).catch((e: unknown) => e);
  t.ok(error instanceof KvcClientError && error.code === 'KVC_NO_LEADER' && error.attempts === 2, 'KVC_NO_LEADER once leaderWaitMs and the retries are spent');
  t.ok(Date.now() - waitStarted >= 100, 'after leaderWaitMs');
});

t.test('a dead endpoint is skipped for writes; all dead gives KVC_UNAVAILABLE', async (t) => {
  const { cluster, client } = await setup(t, 3, {}, [3, 2, 1]);
  cluster.member(3).stop();
  t.same((await client.putPages([page(0, 10)])).map((o) => o.code), ['']);
  t.equal(client.leader, cluster.member(1).address);
  cluster.stopAll();
  const error = await client.lookup(NS, KEYS.slice(0, 1)).catch((e: unknown) => e);
  t.ok(error instanceof KvcClientError && error.code === 'KVC_UNAVAILABLE' && error.grpcCode === grpc.status.UNAVAILABLE, 'KVC_UNAVAILABLE');
  t.equal((error as KvcClientError).attempts, 6, 'after the default 5 retries');
});

t.test('every attempt has a deadline', async (t) => {
  const { cluster, client } = await setup(t, 1, { deadlineMs: 100, retries: 2 });
  cluster.member(1).delayMs = 400;
  const started = Date.now();
  const error = await client.lookup(NS, KEYS.slice(0, 1)).catch((e: unknown) => e);
  t.ok(error instanceof KvcClientError && error.code === 'KVC_DEADLINE_EXCEEDED', 'KVC_DEADLINE_EXCEEDED');
  t.equal((error as KvcClientError).attempts, 3, 'an idempotent read is retried');
  t.ok(Date.now() - started < 1_500, 'bounded by attempts × deadline + backoff');
  const admin = await client.addMember(9, '127.0.0.1:1').catch((e: unknown) => e);
  t.ok(admin instanceof KvcClientError && admin.code === 'KVC_DEADLINE_EXCEEDED' && admin.attempts === 1, 'a membership change is not retried');
  cluster.member(1).delayMs = 0;
  const slow = await collect(client.getPages(NS, [], { deadlineMs: 5_000 }));
  t.equal(slow.length, 0, 'per-call deadline option accepted');
});

t.test('an ambiguous put failure is retried and the page is stored once', async (t) => {
  const { cluster, client } = await setup(t, 1);
  cluster.member(1).failures.push({ method: 'PutPages', code: grpc.status.DEADLINE_EXCEEDED, kvcCode: 'KVC_DEADLINE_EXCEEDED', afterApply: true });
  cluster.member(1).failures.push({ method: 'PutPages', code: grpc.status.UNAVAILABLE, kvcCode: 'KVC_PROPOSAL_DROPPED' });
  const outcomes = await client.putPages([page(0, 3 * MIB)]);
  t.same(outcomes.map((o) => o.code), [''], 'the retry finds the identical page and succeeds');
  t.equal(cluster.member(1).count('PutPages'), 3, 'applied, dropped, then acknowledged');
  t.equal(cluster.pages.size, 1);
  const changed = { ...page(0, 10) };
  t.same((await client.putPages([changed])).map((o) => o.code), ['KVC_EXISTS_DIFFERENT'], 'per-page codes are returned');
});

t.test('server errors surface with their kvc-code and are not retried', async (t) => {
  const { cluster, client } = await setup(t, 1);
  cluster.member(1).failures.push({ method: 'PutPages', code: grpc.status.INVALID_ARGUMENT, kvcCode: 'KVC_SHAPE_MISMATCH' });
  const error = await client.putPages([page(0, 10)]).catch((e: unknown) => e);
  t.ok(error instanceof KvcClientError, 'a KvcClientError');
  const e = error as KvcClientError;
  t.same([e.code, e.grpcCode, e.attempts, e.endpoint], ['KVC_SHAPE_MISMATCH', grpc.status.INVALID_ARGUMENT, 1, cluster.member(1).address]);
  t.match(e.message, /KVC_SHAPE_MISMATCH/);
  cluster.member(1).failures.push({ method: 'Lookup', code: grpc.status.INTERNAL });
  const uncoded = await client.lookup(NS, KEYS.slice(0, 1)).catch((x: unknown) => x);
  t.ok(uncoded instanceof KvcClientError && uncoded.code === 'KVC_TRANSPORT', 'a status without kvc-code gets a client code');
  t.equal(cluster.member(1).count('PutPages'), 1);
});

t.test('answers that contradict the request are refused', async (t) => {
  const { cluster, client } = await setup(t, 1);
  cluster.member(1).lookupOverride = 5;
  await t.rejects(client.lookup(NS, KEYS.slice(0, 2)), { code: 'KVC_PROTOCOL', attempts: 1 }, 'more matches than keys');
  cluster.member(1).dropPutResult = true;
  await t.rejects(client.putPages([page(0, 10), page(1, 10)]), { code: 'KVC_PROTOCOL' }, 'a result missing');
});

t.test('deletes, pins and admin changes go to the leader; admin calls carry the token', async (t) => {
  const { cluster, client } = await setup(t, 3, { adminToken: 's3cret' }, [3]);
  for (const m of cluster.members) m.adminToken = 's3cret';
  await client.putPages([page(0, 10), page(1, 10)]);
  await client.pinPages(NS, KEYS.slice(0, 2), 60_000);
  await client.unpinPages(NS, KEYS.slice(0, 2));
  await client.deletePages(NS, KEYS.slice(1, 2));
  t.equal(await client.lookup(NS, KEYS.slice(0, 2)), 1, 'the delete took effect');
  await client.addMember(4, '127.0.0.1:9', true);
  await client.removeMember(4);
  t.equal(await client.snapshot(), 42);
  await client.dropNamespace(NS);
  const leader = cluster.member(1);
  t.same(['PinPages', 'UnpinPages', 'DeletePages', 'AddMember', 'RemoveMember', 'Snapshot', 'DropNamespace'].map((m) => leader.count(m)), [1, 1, 1, 1, 1, 1, 1]);
  t.ok(leader.adminMetadata.every((md) => md.get('authorization')[0] === 'Bearer s3cret'), 'bearer token on admin calls');
  t.equal(await client.transferLeader(2), 2);
  t.same(await client.putPages([page(2, 10)]).then((o) => o.map((x) => x.code)), [''], 'writes follow the new leader');
  t.equal(client.leader, cluster.member(2).address);
  const config = (await client.getConfig(cluster.member(3).address)) as { id: number };
  t.equal(config.id, 3, 'GetConfig from a chosen member, parsed');

  const noToken = new KvcClient({ endpoints: [leader.address] });
  t.teardown(() => noToken.close());
  await t.rejects(noToken.status(), { code: 'KVC_UNAUTHENTICATED', grpcCode: grpc.status.UNAUTHENTICATED });
});

t.test('membership changes retry only when the server refused them', async (t) => {
  const { cluster, client } = await setup(t, 2, {}, [2]);
  await client.addMember(5, '127.0.0.1:5');
  t.same([cluster.member(2).count('AddMember'), cluster.member(1).count('AddMember')], [1, 1], 'redirected, then done');
  cluster.member(1).failures.push({ method: 'RemoveMember', code: grpc.status.UNAVAILABLE, kvcCode: 'KVC_PROPOSAL_DROPPED' });
  await t.rejects(client.removeMember(5), { code: 'KVC_PROPOSAL_DROPPED', attempts: 1 }, 'not retried after an ambiguous failure');
  cluster.member(1).failures.push({ method: 'RemoveMember', code: grpc.status.UNAVAILABLE, kvcCode: 'KVC_NO_LEADER' });
  await client.removeMember(5);
  t.equal(cluster.member(1).count('RemoveMember'), 3, 'retried after KVC_NO_LEADER (nothing was done)');
});

t.test('clusterStatus discovers every member from one address', async (t) => {
  const { cluster, client } = await setup(t, 3, {}, [2]);
  const status = await client.clusterStatus();
  t.equal(status.leader, 1);
  t.same(status.members.map((m) => [m.id, m.address, m.role]), cluster.members.map((m) => [m.id, m.address, m.id === 1 ? 'leader' : 'follower']));
  t.same(status.unreachable, []);
  t.equal(status.members[0]!.pid, process.pid, 'StatusResponse fields come through camelCase');
  t.same([...client.endpoints()].sort(), cluster.members.map((m) => m.address).sort(), 'the client learned every address');
  cluster.member(3).stop();
  const partial = await client.clusterStatus();
  t.same(partial.members.map((m) => m.id), [1, 2]);
  t.same(partial.unreachable.map((u) => [u.address, u.code]), [[cluster.member(3).address, 'KVC_UNAVAILABLE']]);
  t.equal((await client.status(cluster.member(2).address)).id, 2, 'status of a chosen member');
});

t.test('retry rules and backoff', async (t) => {
  const error = (code: string, leader?: string, message = code): KvcClientError =>
    new KvcClientError(code, message, { grpcCode: grpc.status.UNAVAILABLE, ...(leader ? { leader } : {}) });
  t.same(decide(error('KVC_NOT_LEADER', 'b:1'), false, 'a:1'), { kind: 'redirect', leader: 'b:1' });
  t.same(decide(error('KVC_NOT_LEADER', 'a:1'), true, 'a:1'), { kind: 'backoff' }, 'a self-redirect backs off');
  t.same(decide(error('KVC_NO_LEADER'), false, 'a:1'), { kind: 'backoff' });
  t.same(decide(error('KVC_PROPOSAL_DROPPED'), true, 'a:1'), { kind: 'backoff' });
  t.same(decide(error('KVC_PROPOSAL_DROPPED'), false, 'a:1'), { kind: 'fail' });
  t.same(decide(error('KVC_UNAVAILABLE', undefined, 'No connection established. Last error: ECONNREFUSED'), false, 'a:1'), { kind: 'backoff' }, 'never sent');
  t.same(decide(error('KVC_UNAVAILABLE', undefined, 'Connection dropped'), false, 'a:1'), { kind: 'fail' });
  t.same(decide(error('KVC_EXISTS_DIFFERENT'), true, 'a:1'), { kind: 'fail' });
  const policy = { retries: 5, backoffBaseMs: 100, backoffMaxMs: 2_000 };
  t.same([0, 1, 4, 10].map((n) => backoffMs(policy, n, () => 0)), [50, 100, 800, 1_000], 'half the ceiling at least');
  t.same([0, 1, 4, 10].map((n) => backoffMs(policy, n, () => 1)), [100, 200, 1_600, 2_000], 'the ceiling at most');
});

t.test('argument checks and close', async (t) => {
  t.throws(() => new KvcClient({ endpoints: [] }), TypeError);
  t.throws(() => new KvcClient({ endpoints: ['a:1'], deadlineMs: 0 }), RangeError);
  t.throws(() => new KvcClient({ endpoints: ['a:1'], retries: -1 }), RangeError);
  t.throws(() => new KvcClient({ endpoints: ['a:1'], leaderWaitMs: -1 }), RangeError);
  const { client } = await setup(t, 1);
  await t.rejects(client.putPages([{ meta: page(0, 1).meta, data: 'text' as never }]), TypeError, 'data must be bytes');
  client.close();
  await t.rejects(client.lookup(NS, KEYS.slice(0, 1)), /closed/, 'calls after close fail');
});
