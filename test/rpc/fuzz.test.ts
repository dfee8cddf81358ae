// Proves that every malformed message gets a coded error and that a live cluster survives a fuzz
// round (issue 15), on one 3-member in-process cluster (src/fuzz/cluster.ts, loopback ports):
// - bytes that are not the method's request type are answered INVALID_ARGUMENT with
//   KVC_MALFORMED_REQUEST on every service (Cache, Admin, Peer, health, reflection) instead of
//   grpc-js' INTERNAL, in unary calls and mid-stream (a PutPages stream, a Raft stream, a
//   reflection stream), and the member goes on serving;
// - a Raft batch from a sender outside the configuration, with a huge term, is refused with
//   KVC_UNKNOWN_PEER and leaves every member's term alone;
// - the wire mutations (src/fuzz/wire.ts) make what they promise;
// - a bounded fuzz round with a fixed seed (`npm run fuzz -- --requests 1000 --seed 20261205`)
//   passes: every answer a success or coded, every member up, baseline pages intact, digests
//   converged.
import * as grpc from '@grpc/grpc-js';
import t, { type Test as TestContext } from 'tap';
import { encodeMessage } from '../../src/codec/index.js';
import { encodeVarint, mutateMessage, parseFields, runFuzz, startFuzzCluster, WIRE_MUTATIONS, type FuzzSummary } from '../../src/fuzz/index.js';
import { MessageType } from '../../src/raft/index.js';
import { loadProtos } from '../../src/rpc/index.js';
import { Prng } from '../../src/sim/index.js';

const FUZZ_SEED = 20261205;
const FUZZ_REQUESTS = 1000;

const cluster = await startFuzzCluster();
t.teardown(() => cluster.stop());
const endpoint = cluster.endpoints[0]!;
const channel = new grpc.Client(endpoint, grpc.credentials.createInsecure());
t.teardown(() => channel.close());
const identity = (bytes: Buffer): Buffer => bytes;
/** Not protobuf at all: a field key whose varint never ends. */
const JUNK = Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

function codeOf(error: grpc.ServiceError | null): string | undefined {
  const code = error?.metadata.get('kvc-code')[0];
  return typeof code === 'string' ? code : undefined;
}

function unary(path: string, request: Buffer, metadata = new grpc.Metadata()): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => channel.makeUnaryRequest(path, identity, identity, request, metadata, { deadline: Date.now() + 5_000 }, (error) => resolve(error)));
}

function clientStream(path: string, messages: Buffer[], via = channel): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const call = via.makeClientStreamRequest(path, identity, identity, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (error) => resolve(error));
    call.on('error', () => undefined);
    for (const m of messages) call.write(m);
    call.end();
  });
}

async function assertServing(t: TestContext): Promise<void> {
  const health = await unary('/grpc.health.v1.Health/Check', Buffer.alloc(0));
  t.equal(health, null, 'the member still answers health checks');
  for (const e of cluster.endpoints) t.notOk(cluster.memberFailed(e), `member at ${e} is up`);
}

t.test('bytes that do not decode get KVC_MALFORMED_REQUEST on every service', async (t) => {
  const protos = loadProtos();
  const token = new grpc.Metadata();
  token.set('authorization', `Bearer ${cluster.adminToken}`);
  for (const [name, path] of [
    ['CacheService.Lookup', protos.cache.Lookup!.path],
    ['AdminService.Status', protos.admin.Status!.path],
    ['Health.Check', '/grpc.health.v1.Health/Check'],
  ] as const) {
    const error = await unary(path, JUNK, token);
    t.equal(error?.code, grpc.status.INVALID_ARGUMENT, `${name}: INVALID_ARGUMENT`);
    t.equal(codeOf(error), 'KVC_MALFORMED_REQUEST', `${name}: coded`);
    t.match(error?.details, new RegExp(name.split('.')[1]!), `${name}: the details name the method`);
  }
  // Server streaming: the request is the only message.
  const getPages = channel.makeServerStreamRequest(protos.cache.GetPages!.path, identity, identity, JUNK, new grpc.Metadata(), {});
  const streamError = await new Promise<grpc.ServiceError>((resolve) => getPages.on('error', resolve));
  t.equal(codeOf(streamError), 'KVC_MALFORMED_REQUEST', 'GetPages (server stream): coded');
  await assertServing(t);
});

t.test('a bad message mid-stream ends that stream with the coded error', async (t) => {
  const protos = loadProtos();
  const put = protos.cache.PutPages!;
  const data = Buffer.alloc(64, 7);
  const valid = put.requestSerialize({ meta: { namespace: 'fuzz/scratch', key: Buffer.alloc(16, 1), dtype: 'U8', shape: [1, 128], tokens: 1, bytes: 128, crc32c: 0 }, data, last: false });
  // To the leader: a follower may answer KVC_NOT_LEADER before the bad message arrives.
  const leader = cluster.members.find((m) => m.node.isLeader())!;
  const toLeader = new grpc.Client(leader.address, grpc.credentials.createInsecure());
  t.teardown(() => toLeader.close());
  const putError = await clientStream(put.path, [valid, JUNK], toLeader);
  t.equal(codeOf(putError), 'KVC_MALFORMED_REQUEST', 'PutPages: the stream ends coded');

  const raft = protos.peer.Raft!;
  const others = cluster.members.filter((m) => m.address !== endpoint);
  const heartbeat = encodeMessage({ type: MessageType.HeartbeatResp, to: cluster.members[0]!.id, from: others[0]!.id, term: 1, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
  const batch = raft.requestSerialize({ from: others[0]!.id, to: cluster.members[0]!.id, messages: [heartbeat], fromAddress: '' });
  const raftError = await clientStream(raft.path, [batch, batch, JUNK]);
  t.equal(codeOf(raftError), 'KVC_MALFORMED_REQUEST', 'Raft: the stream ends coded');

  const reflection = channel.makeBidiStreamRequest('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', identity, identity, new grpc.Metadata(), {});
  const answers: Buffer[] = [];
  reflection.on('data', (b: Buffer) => answers.push(b));
  const reflectionError = new Promise<grpc.ServiceError>((resolve) => reflection.on('error', resolve));
  reflection.write(Buffer.from([0x3a, 0x00])); // list_services
  reflection.write(JUNK);
  t.equal(codeOf(await reflectionError), 'KVC_MALFORMED_REQUEST', 'reflection: the stream ends coded');
  t.ok(answers.length >= 1, 'after answering the good request before it');
  await assertServing(t);
});

t.test('a Raft batch from outside the configuration is refused and moves no term', async (t) => {
  const raft = loadProtos().peer.Raft!;
  const target = cluster.members[0]!;
  const termsBefore = cluster.members.map((m) => m.node.status().term);
  const stranger = 4242;
  const vote = encodeMessage({ type: MessageType.Vote, to: target.id, from: stranger, term: 1e9, logTerm: 1e9, index: 1e12, entries: [], commit: 0, reject: false, rejectHint: 0 });
  const error = await clientStream(raft.path, [raft.requestSerialize({ from: stranger, to: target.id, messages: [vote], fromAddress: '127.0.0.1:9' })]);
  t.equal(error?.code, grpc.status.PERMISSION_DENIED);
  t.equal(codeOf(error), 'KVC_UNKNOWN_PEER');
  t.same(cluster.members.map((m) => m.node.status().term), termsBefore, 'no member changed its term');
  t.equal(target.transport.addresses.get(stranger), undefined, 'nor learned the stranger\'s address');
});

t.test('wire mutations', async (t) => {
  const status = loadProtos().admin.AddMember!.requestSerialize({ id: 3, address: '127.0.0.1:1', learner: true });
  t.same(parseFields(status)?.map((f) => [f.fieldNumber, f.wireType]), [[1, 0], [2, 2], [3, 0]], 'parses the fields of a valid message');
  t.equal(parseFields(JUNK), undefined, 'and refuses bytes that are not protobuf');
  t.equal(encodeVarint(-1n).length, 10, 'a negative length takes ten bytes, as protobuf writes it');
  const prng = new Prng(7);
  const seen = new Set<string>();
  for (let i = 0; i < 2000 && seen.size < WIRE_MUTATIONS.length; i++) seen.add(mutateMessage(prng, status).mutation);
  t.same([...seen].sort(), [...WIRE_MUTATIONS].sort(), 'every mutation happens');
  const a = mutateMessage(new Prng(11), status).bytes;
  const b = mutateMessage(new Prng(11), status).bytes;
  t.same(a, b, 'a seed reproduces the bytes');
});

t.test(`a fuzz round of ${FUZZ_REQUESTS} requests (seed ${FUZZ_SEED}) passes`, async (t) => {
  const summary: FuzzSummary = await runFuzz({
    endpoints: cluster.endpoints,
    requests: FUZZ_REQUESTS,
    seed: FUZZ_SEED,
    adminToken: cluster.adminToken,
    memberFailed: cluster.memberFailed,
  });
  if (!summary.ok) t.comment(JSON.stringify(summary, null, 2));
  t.same(summary.failures, [], 'no failures');
  t.ok(summary.ok);
  const names = Object.keys(summary.methods);
  for (const service of ['CacheService.', 'AdminService.', 'PeerService.Raft', 'PeerService.Snapshot', 'Health.', 'Reflection.']) {
    t.ok(names.some((n) => n.startsWith(service)), `${service} was fuzzed`);
  }
  const coded = Object.values(summary.methods).reduce((n, m) => n + (m.coded.KVC_MALFORMED_REQUEST ?? 0), 0);
  t.ok(coded > 0, `malformed requests were answered coded (${coded})`);
  await assertServing(t);
});

t.test('a run with unanswered calls or a member reported down fails, and says why', async (t) => {
  const summary = await runFuzz({
    endpoints: cluster.endpoints,
    requests: 30,
    seed: 3,
    adminToken: cluster.adminToken,
    deadlineMs: 1,
    memberFailed: () => true,
  });
  t.equal(summary.ok, false);
  t.ok(summary.failures.some((f) => /answers without a KVC_\* code/.test(f)), 'calls past their deadline are uncoded');
  t.ok(summary.failures.some((f) => /a member was down after/.test(f)), 'a member reported down counts as a crash');
  t.ok(summary.failures.some((f) => /is not serving after the run/.test(f)), 'and fails the final check');
});
