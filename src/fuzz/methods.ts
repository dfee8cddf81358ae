// What the fuzzer calls: every method a member serves (Cache, Admin, Peer, grpc.health.v1,
// server reflection v1 and v1alpha), each with a generator of valid request streams that the
// fuzzer then mutates (wire.ts). Requests are plain bytes on the wire (identity serializers), so
// anything can be sent; the kvcache.v1 seeds are encoded with the service definitions' own
// serializers, the library services' seeds by hand (their messages are tiny).
//
// Two kinds of request must never be sent well-formed, because they would change the cluster for
// real rather than test its input handling: admin calls that change membership, leadership or
// settings (`destructive`: sent without the admin token, so they are refused before they act),
// and Raft traffic that claims to come from a member (`forged`: built with stale terms only, never
// byte-mutated). Raft messages from senders outside the configuration may carry anything.
import { crc32c, encodeMessage } from '../codec/index.js';
import { MessageType, type Message } from '../raft/index.js';
import { loadProtos, type LoadedProtos } from '../rpc/index.js';
import type { Prng } from '../sim/index.js';

export type CallKind = 'unary' | 'serverStream' | 'clientStream' | 'bidi';

/** What a seed generator knows about the target member and its cluster. */
export interface SeedContext {
  /** The id of the member the request goes to. */
  targetId: number;
  /** Every member id of the cluster. */
  memberIds: number[];
  /** The highest term that is certainly stale (the cluster's term before the run, less one); 0 when none is. */
  staleTermMax: number;
  /** The namespace the fuzzer's own pages live in (never the baseline's). */
  namespace: string;
}

export interface FuzzMethod {
  /** "CacheService.Lookup", "Health.Check", ... */
  name: string;
  path: string;
  kind: CallKind;
  /** A valid request stream: one message for unary and server-streaming calls. */
  seed(prng: Prng, ctx: SeedContext): Buffer[];
  /** Sent with the admin token when the fuzzer has one. */
  admin?: boolean;
  /** Changes the cluster when it succeeds: only sent without the token (see the file comment). */
  destructive?: boolean;
  /** Decodes a request as the server would (to hold back well-formed destructive calls). */
  decode?: (bytes: Buffer) => unknown;
}

/** Sender ids that no configuration uses. */
export const UNKNOWN_SENDER_MIN = 1_000_000;
const HUGE = Number.MAX_SAFE_INTEGER;
const PAGE_BYTES_MAX = 4096;

function pick<T>(prng: Prng, values: readonly T[]): T {
  return values[prng.int(values.length)]!;
}

function bytesOf(prng: Prng, length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let i = 0; i < length; i++) out[i] = prng.int(256);
  return out;
}

function key(prng: Prng): Buffer {
  return bytesOf(prng, 16);
}

function keys(prng: Prng): Buffer[] {
  return Array.from({ length: 1 + prng.int(4) }, () => key(prng));
}

/** A small u8 page in the fuzzer's namespace: its PutPages messages. */
function pageStream(prng: Prng, ns: string): object[] {
  const bytes = 1 + prng.int(PAGE_BYTES_MAX);
  const data = bytesOf(prng, bytes);
  const meta = { namespace: ns, key: key(prng), dtype: 'U8', shape: [1, bytes], tokens: 1 + prng.int(64), bytes, crc32c: crc32c(data) };
  const split = prng.int(bytes);
  if (split === 0) return [{ meta, data, last: true }];
  return [
    { meta, data: data.subarray(0, split), last: false },
    { data: data.subarray(split), last: true },
  ];
}

function raftMessage(m: Partial<Message>): Message {
  return { type: MessageType.Heartbeat, to: 0, from: 0, term: 0, logTerm: 0, index: 0, entries: [], commit: 0, reject: false, rejectHint: 0, ...m };
}

/** Types a member sends another over the network (no local-only ones). */
const NETWORK_TYPES: readonly MessageType[] = [
  MessageType.App,
  MessageType.AppResp,
  MessageType.Vote,
  MessageType.VoteResp,
  MessageType.Heartbeat,
  MessageType.HeartbeatResp,
  MessageType.TransferLeader,
  MessageType.TimeoutNow,
  MessageType.ReadIndexResp,
  MessageType.PreVote,
  MessageType.PreVoteResp,
];

/** A Raft message from a sender outside the configuration: any type, terms and indexes up to huge. */
function strangerMessage(prng: Prng, ctx: SeedContext, from: number): Buffer {
  const big = (): number => pick(prng, [0, 1, prng.int(1000), HUGE, HUGE - 1]);
  const entries = prng.int(3) === 0 ? [{ term: big(), index: big(), type: 0, data: bytesOf(prng, prng.int(32)) }] : [];
  const type = pick(prng, [...NETWORK_TYPES, MessageType.Prop, MessageType.ReadIndex]);
  return Buffer.from(encodeMessage(raftMessage({ type, to: ctx.targetId, from, term: big(), logTerm: big(), index: big(), commit: big(), entries })));
}

/**
 * A Raft message that claims a real member as its sender but carries a stale term, so Raft drops
 * it whatever else it says (huge indexes included); undefined when no term is stale yet.
 */
function staleMemberMessage(prng: Prng, ctx: SeedContext): { from: number; bytes: Buffer } | undefined {
  const others = ctx.memberIds.filter((id) => id !== ctx.targetId);
  if (ctx.staleTermMax < 1 || others.length === 0) return undefined;
  const from = pick(prng, others);
  const term = 1 + prng.int(ctx.staleTermMax);
  const index = pick(prng, [0, 1, HUGE]);
  const m = raftMessage({ type: pick(prng, NETWORK_TYPES), to: ctx.targetId, from, term, logTerm: pick(prng, [0, term, HUGE]), index, commit: pick(prng, [0, HUGE]) });
  return { from, bytes: Buffer.from(encodeMessage(m)) };
}

function raftSeed(protos: LoadedProtos, prng: Prng, ctx: SeedContext): Buffer[] {
  const serialize = protos.peer.Raft!.requestSerialize;
  const batches = 1 + (prng.int(4) === 0 ? prng.int(40) : 0); // Sometimes an over-long stream.
  const from = UNKNOWN_SENDER_MIN + prng.int(1000);
  return Array.from({ length: batches }, () =>
    serialize({
      from,
      to: ctx.targetId,
      messages: Array.from({ length: prng.int(4) }, () => strangerMessage(prng, ctx, from)),
      fromAddress: `127.0.0.1:${1 + prng.int(65_535)}`,
      accessReport: prng.int(4) === 0 ? bytesOf(prng, prng.int(40)) : Buffer.alloc(0),
    }),
  );
}

function snapshotSeed(protos: LoadedProtos, prng: Prng, ctx: SeedContext): Buffer[] {
  const serialize = protos.peer.Snapshot!.requestSerialize;
  const from = UNKNOWN_SENDER_MIN + prng.int(1000);
  const snapshot = { metadata: { index: HUGE, term: HUGE, confState: { voters: [from], learners: [] } }, data: new Uint8Array(0) };
  const first = prng.int(3) === 0 ? bytesOf(prng, prng.int(40)) : Buffer.from(encodeMessage(raftMessage({ type: MessageType.Snap, to: ctx.targetId, from, term: HUGE, snapshot })));
  const parts = prng.int(6);
  return Array.from({ length: parts }, (_, seq) => {
    const data = bytesOf(prng, prng.int(64));
    return serialize({ message: seq === 0 ? first : Buffer.alloc(0), seq, data, crc32c: crc32c(data), last: seq === parts - 1, totalCrc32c: 0, appliedIndex: HUGE });
  });
}

/** A protobuf string field, encoded by hand (the library services' requests). */
function stringField(field: number, value: string): Buffer {
  const bytes = Buffer.from(value);
  return Buffer.concat([Buffer.from([(field << 3) | 2, bytes.length]), bytes]);
}

function healthSeed(prng: Prng): Buffer[] {
  return [stringField(1, pick(prng, ['', 'kvcache.v1.CacheService', 'kvcache.v1.PeerService', 'no.such.Service']))];
}

function reflectionSeed(prng: Prng): Buffer[] {
  const requests = [
    () => stringField(7, ''),
    () => stringField(4, pick(prng, ['kvcache.v1.CacheService', 'kvcache.v1.StatusRequest', 'grpc.health.v1.Health', 'no.such.Symbol'])),
    () => stringField(3, pick(prng, ['kvcache/v1/cache.proto', 'kvcache/v1/peer.proto', 'missing.proto'])),
  ];
  return Array.from({ length: 1 + prng.int(3) }, () => Buffer.concat([stringField(1, 'localhost'), pick(prng, requests)()]));
}

/** Every method a member serves, with its seed generator. */
export function fuzzMethods(): FuzzMethod[] {
  const protos = loadProtos();
  const method = (service: 'cache' | 'admin', name: string, seed: (prng: Prng, ctx: SeedContext) => object[], extra: Partial<FuzzMethod> = {}): FuzzMethod => {
    const definition = protos[service][name];
    if (definition === undefined) throw new Error(`no method ${name}`);
    const kind: CallKind = definition.requestStream ? (definition.responseStream ? 'bidi' : 'clientStream') : definition.responseStream ? 'serverStream' : 'unary';
    return {
      name: `${service === 'cache' ? 'CacheService' : 'AdminService'}.${name}`,
      path: definition.path,
      kind,
      seed: (prng, ctx) => seed(prng, ctx).map((m) => definition.requestSerialize(m)),
      decode: (bytes) => definition.requestDeserialize(bytes),
      ...extra,
    };
  };
  const nsKeys = (prng: Prng, ctx: SeedContext): object[] => [{ namespace: ctx.namespace, keys: keys(prng) }];
  const adminOnly = { admin: true };
  const destructive = { admin: true, destructive: true };
  return [
    method('cache', 'Lookup', (prng, ctx) => [{ namespace: ctx.namespace, keys: keys(prng), leaseMs: prng.int(2) * 1000, morePrompts: prng.int(2) === 0 ? [] : [{ keys: keys(prng) }] }]),
    method('cache', 'GetPages', (prng, ctx) => [{ namespace: ctx.namespace, keys: keys(prng), layerBegin: 0, layerEnd: prng.int(3) }]),
    method('cache', 'PutPages', (prng, ctx) => Array.from({ length: 1 + prng.int(3) }, () => pageStream(prng, ctx.namespace)).flat()),
    method('cache', 'DeletePages', nsKeys),
    method('cache', 'PinPages', (prng, ctx) => [{ namespace: ctx.namespace, keys: keys(prng), ttlMs: 1 + prng.int(60_000) }]),
    method('cache', 'UnpinPages', nsKeys),
    method('cache', 'ReleasePages', (prng) => [{ shmNonce: bytesOf(prng, 32), clientId: bytesOf(prng, 16), leaseIds: [prng.int(1000)] }]),
    method('admin', 'Status', (prng) => [{ includeDigest: prng.int(8) === 0 }], adminOnly),
    method('admin', 'GetConfig', () => [{}], adminOnly),
    method('admin', 'ListNamespaces', () => [{}], adminOnly),
    method('admin', 'ListRemovals', (prng) => [{ fromIndex: prng.int(100), limit: prng.int(100) }], adminOnly),
    method('admin', 'AddMember', (prng, ctx) => [{ id: pick(prng, ctx.memberIds), address: '127.0.0.1:1', learner: true }], destructive),
    method('admin', 'RemoveMember', (prng, ctx) => [{ id: pick(prng, ctx.memberIds) }], destructive),
    method('admin', 'TransferLeader', (prng, ctx) => [{ targetId: pick(prng, ctx.memberIds) }], destructive),
    method('admin', 'Snapshot', () => [{}], destructive),
    method('admin', 'DropNamespace', (_prng, ctx) => [{ namespace: ctx.namespace }], destructive),
    method('admin', 'SetConfig', () => [{ key: 'evictionGraceMs', value: '1000' }], destructive),
    method('admin', 'SetNamespaceConfig', (_prng, ctx) => [{ namespace: ctx.namespace, key: 'quotaBytes', value: '1MiB' }], destructive),
    method('admin', 'Profile', () => [{ seconds: 1 }], destructive),
    { name: 'PeerService.Raft', path: protos.peer.Raft!.path, kind: 'clientStream', seed: (prng, ctx) => raftSeed(protos, prng, ctx) },
    { name: 'PeerService.Snapshot', path: protos.peer.Snapshot!.path, kind: 'clientStream', seed: (prng, ctx) => snapshotSeed(protos, prng, ctx) },
    { name: 'Health.Check', path: '/grpc.health.v1.Health/Check', kind: 'unary', seed: healthSeed },
    { name: 'Health.Watch', path: '/grpc.health.v1.Health/Watch', kind: 'serverStream', seed: healthSeed },
    { name: 'Reflection.v1', path: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', kind: 'bidi', seed: reflectionSeed },
    { name: 'Reflection.v1alpha', path: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo', kind: 'bidi', seed: reflectionSeed },
  ];
}

/** Forged Raft traffic that claims a real member (stale terms), sent unmutated; undefined when none can be made. */
export function forgedMemberBatch(prng: Prng, ctx: SeedContext): Buffer[] | undefined {
  const protos = loadProtos();
  const first = staleMemberMessage(prng, ctx);
  if (first === undefined) return undefined;
  const messages = [first.bytes];
  for (let i = prng.int(4); i > 0; i--) {
    const next = staleMemberMessage(prng, ctx)!;
    if (next.from === first.from) messages.push(next.bytes);
  }
  return [protos.peer.Raft!.requestSerialize({ from: first.from, to: ctx.targetId, messages, fromAddress: '', accessReport: Buffer.alloc(0) })];
}
