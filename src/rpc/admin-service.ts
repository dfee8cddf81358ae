// AdminService: what operators call through `kvc` (admin.proto). Status and GetConfig are
// answered by any member; membership, transfer, snapshot and drop need the leader. When the
// member has tokens or an admin token, every call must carry `authorization: Bearer <token>` of
// a token with the admin scope (auth.ts; Status also takes the read scope).
//
// Membership and transfer calls answer once the change has taken effect on this member (the
// conf change applied, the leadership moved), not merely once it was proposed, so a script can
// run the next step right after.
import { createHash } from 'node:crypto';
import type * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import { LIMITS } from '../limits.js';
import { nativeStatus } from '../native/index.js';
import type { ClusterNode, NodeStatus } from '../node/index.js';
import type { NodeId } from '../raft/index.js';
import { authorize, authorizeStatus } from './auth.js';
import { proposeOk } from './cache-service.js';
import { listNamespaces, listRemovals, namespaceMessages, setConfig, setNamespaceConfig, settingsMessage } from './capacity-admin.js';
import { serverStream, unary } from './handlers.js';
import type { MemberContext } from './member-context.js';
// The generated message types (src/proto): a request as it arrives (`__Output`), a response as a
// handler writes it.
import type {
  AddMemberRequest__Output as AddMemberRequest,
  AddMemberResponse,
  DropNamespaceRequest__Output as DropNamespaceRequest,
  DropNamespaceResponse,
  GetConfigRequest__Output as GetConfigRequest,
  GetConfigResponse,
  ListNamespacesRequest__Output as ListNamespacesRequest,
  ListNamespacesResponse,
  ListRemovalsRequest__Output as ListRemovalsRequest,
  ListRemovalsResponse,
  Member,
  SetConfigRequest__Output as SetConfigRequest,
  SetConfigResponse,
  SetNamespaceConfigRequest__Output as SetNamespaceConfigRequest,
  SetNamespaceConfigResponse,
  MemoryTierStatus as MemoryTierStatusMessage,
  NativeStatus as NativeStatusMessage,
  SharedMemoryStatus as SharedMemoryStatusMessage,
  RemoveMemberRequest__Output as RemoveMemberRequest,
  RemoveMemberResponse,
  SnapshotRequest__Output as SnapshotRequest,
  SnapshotResponse,
  StatusRequest__Output as StatusRequest,
  StatusResponse,
  TransferLeaderRequest__Output as TransferLeaderRequest,
  TransferLeaderResponse,
  ProfileChunk,
  ProfileRequest__Output as ProfileRequest,
} from '../proto/index.js';
import { profile } from './profile.js';
import { validateNamespace } from './validate.js';

/** How often a membership or transfer call looks whether its change has taken effect. */
const CHANGE_POLL_MS = 10;
/** host:port with a non-empty host and a port number (an IPv6 host in brackets). */
const ADDRESS_PATTERN = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/;

type Call = grpc.ServerUnaryCall<unknown, unknown>;

export function adminServiceHandlers(ctx: MemberContext): grpc.UntypedServiceImplementation {
  const admin = <Request, Response>(what: string, fn: (request: Request, call: Call) => Promise<Response>): grpc.handleUnaryCall<Request, Response> =>
    unary<Request, Response>(ctx, what, async (request, call) => {
      authorize(ctx, call, 'admin');
      return fn(request, call as Call);
    });
  return {
    Status: unary<StatusRequest, StatusResponse>(ctx, 'Status', async (request, call) => {
      authorizeStatus(ctx, call);
      return status(ctx, request.includeDigest === true);
    }),
    AddMember: admin<AddMemberRequest, AddMemberResponse>('AddMember', (request, call) => addMember(ctx, request, call)),
    RemoveMember: admin<RemoveMemberRequest, RemoveMemberResponse>('RemoveMember', (request, call) => removeMember(ctx, request, call)),
    TransferLeader: admin<TransferLeaderRequest, TransferLeaderResponse>('TransferLeader', (request, call) => transferLeader(ctx, request, call)),
    Snapshot: admin<SnapshotRequest, SnapshotResponse>('Snapshot', async () => {
      const node = ctx.requireLeader();
      await node.compactNow();
      return { walFirstIndex: node.status().walFirstIndex };
    }),
    DropNamespace: admin<DropNamespaceRequest, DropNamespaceResponse>('DropNamespace', (request, call) =>
      proposeOk(ctx, call, { op: 'drop-ns', ns: validateNamespace(request.namespace) }),
    ),
    GetConfig: admin<GetConfigRequest, GetConfigResponse>('GetConfig', async () => ({
      json: JSON.stringify({ ...ctx.config(), limits: LIMITS }),
      settings: settingsMessage(ctx.requireNode().store.settings()),
    })),
    SetConfig: admin<SetConfigRequest, SetConfigResponse>('SetConfig', (request, call) => setConfig(ctx, request, call)),
    SetNamespaceConfig: admin<SetNamespaceConfigRequest, SetNamespaceConfigResponse>('SetNamespaceConfig', (request, call) => setNamespaceConfig(ctx, request, call)),
    ListNamespaces: admin<ListNamespacesRequest, ListNamespacesResponse>('ListNamespaces', async () => listNamespaces(ctx)),
    ListRemovals: admin<ListRemovalsRequest, ListRemovalsResponse>('ListRemovals', (request) => listRemovals(ctx, request)),
    Profile: serverStream<ProfileRequest, ProfileChunk>(ctx, 'Profile', async (call) => {
      authorize(ctx, call, 'admin');
      await profile(call.request, call);
    }),
  };
}

/**
 * Any member answers, a stopped one too (role "stopped", e.g. after a fatal disk error), so
 * operators see it. The digest is computed only when asked: it reads the whole store. A stopped
 * member reports none (its store may be closed already).
 */
async function status(ctx: MemberContext, includeDigest: boolean): Promise<StatusResponse> {
  const node = ctx.startedNode();
  const digest = includeDigest && !node.stopped ? await node.digest() : '';
  const pages = includeDigest && !node.stopped ? await node.pagesDigest() : { digest: '', appliedIndex: 0 };
  const st = node.status();
  const ring = node.watchRing.stats();
  const members: Member[] = [
    ...st.voters.map((id) => member(ctx, id, false)),
    ...st.learners.map((id) => member(ctx, id, true)),
  ];
  return {
    id: st.id,
    address: ctx.address,
    role: node.stopped ? 'stopped' : st.role,
    term: st.term,
    commitIndex: st.commitIndex,
    appliedIndex: st.appliedIndex,
    leaderId: st.leader,
    leaderAddress: ctx.leaderAddress() ?? '',
    members,
    pages: st.pages,
    bytes: st.bytes,
    pid: process.pid,
    walFirstIndex: st.walFirstIndex,
    walLastIndex: st.walLastIndex,
    walSegments: st.walSegments,
    uptimeMs: Math.round(process.uptime() * 1000),
    digest,
    native: nativeMessage(),
    memoryTier: memoryTierMessage(ctx, node),
    evictedPages: st.evictedPages,
    evictedBytes: st.evictedBytes,
    expiredPages: st.expiredPages,
    settings: settingsMessage(node.store.settings()),
    namespaces: namespaceMessages(node),
    ...blobMessage(node),
    metricsUrl: ctx.metricsUrl,
    unsafeTestSwitches: [...ctx.unsafeTestSwitches],
    watch: { oldestIndex: ring.oldestIndex, events: ring.events, bytes: ring.bytes, watchers: node.watchRing.watchers() },
    pagesDigest: pages.digest,
    pagesDigestIndex: pages.appliedIndex,
    directIo: st.directIo,
    ...sharedLookupMessage(node),
  };
}

function sharedLookupMessage(node: ClusterNode): Pick<StatusResponse, 'sharedLookup' | 'sharedLookupNote'> {
  const { stats, note } = node.sharedLookupStats();
  return {
    // The store's figures are the message's fields, by name.
    sharedLookup: stats ?? null,
    sharedLookupNote: note,
  };
}

function blobMessage(node: ClusterNode): Pick<StatusResponse, 'blobBytes' | 'blobGarbageBytes' | 'blobFiles' | 'blobGcRuns' | 'blobWalFiles' | 'valueLog' | 'valueLogNote'> {
  const blobs = node.store.blobStats();
  const valueLog = node.valueLogStatus();
  return {
    blobBytes: blobs.bytes,
    blobGarbageBytes: blobs.garbageBytes,
    blobFiles: blobs.files,
    blobGcRuns: blobs.gcRuns,
    blobWalFiles: blobs.walFiles,
    valueLog: valueLog.enabled,
    valueLogNote: valueLog.note,
  };
}

function nativeMessage(): NativeStatusMessage {
  const native = nativeStatus();
  return { loaded: native.loaded, reason: native.reason, ...native.features };
}

function memoryTierMessage(ctx: MemberContext, node: ClusterNode): MemoryTierStatusMessage {
  const tier = node.memoryTierStats();
  const leases = ctx.sharedLeases;
  const leaseStats = leases?.stats() ?? { held: 0, granted: 0, expired: 0, refusedFull: 0 };
  // Only a member that hands out leases offers the files: without leases no read could use them.
  const sharedMemory: SharedMemoryStatusMessage | null =
    tier.shared === null || leases === undefined
      ? null
      : {
          files: tier.shared.files.map((file) => ({ path: file.path, fileBytes: file.fileBytes, dataOffset: file.dataOffset })),
          nonceSha256: createHash('sha256').update(tier.shared.nonce).digest(),
          leasesHeld: leaseStats.held,
          leasesMax: leases.leasesMax,
          leasesPerClientMax: leases.leasesPerClientMax,
          leaseMs: leases.leaseMs,
          leasesGranted: leaseStats.granted,
          leasesExpired: leaseStats.expired,
          streamedLeasesFull: leaseStats.refusedFull,
          releasesWithGet: true,
        };
  return {
    sharedMemory,
    arenaBytes: tier.arenaBytes,
    usedBytes: tier.usedBytes,
    mlocked: tier.mlocked,
    numaNodes: tier.numaNodes.map((id) => id ?? -1),
    hits: tier.hits,
    misses: tier.misses,
    hitRatio: tier.hitRatio,
    cachedPages: tier.cachedPages,
    cachedBytes: tier.cachedBytes,
    evictions: tier.evictions,
    promotionsSkipped: tier.promotionsSkipped,
    corruptHits: tier.corruptHits,
    leasesHeld: tier.leasesHeld,
    pageBytesMax: tier.pageBytesMax,
    hugePageAligned: tier.hugePageAligned,
    cudaRegistered: tier.cudaRegistered,
    note: tier.note,
  };
}

function member(ctx: MemberContext, id: NodeId, learner: boolean): Member {
  // match_index needs the leader's replication progress, which NodeStatus does not carry yet.
  return { id, address: ctx.addressOf(id) ?? '', learner, matchIndex: 0 };
}

function validateMemberId(id: number): NodeId {
  if (!Number.isSafeInteger(id) || id < 1 || id > 0xffff_ffff) {
    throw new KvcError('KVC_CODEC', { detail: `member id ${id} is not an integer from 1 to ${0xffff_ffff}` });
  }
  return id;
}

async function addMember(ctx: MemberContext, request: AddMemberRequest, call: Call): Promise<AddMemberResponse> {
  const id = validateMemberId(request.id);
  const match = ADDRESS_PATTERN.exec(request.address);
  if (match === null || Number(match[2]) > 65_535 || Number(match[2]) === 0) {
    throw new KvcError('KVC_CODEC', { detail: `member address ${JSON.stringify(request.address)} is not host:port` });
  }
  const node = ctx.requireLeader();
  const done = (st: NodeStatus): boolean => (request.learner ? st.learners : st.voters).includes(id);
  if (done(node.status())) return {};
  node.addMember(id, request.address, request.learner);
  await waitFor(ctx, node, call, done, `member ${id} to be added as a ${request.learner ? 'learner' : 'voter'}`);
  return {};
}

async function removeMember(ctx: MemberContext, request: RemoveMemberRequest, call: Call): Promise<RemoveMemberResponse> {
  const id = validateMemberId(request.id);
  const node = ctx.requireLeader();
  const done = (st: NodeStatus): boolean => !st.voters.includes(id) && !st.learners.includes(id);
  if (done(node.status())) return {};
  node.removeMember(id);
  await waitFor(ctx, node, call, done, `member ${id} to be removed`);
  return {};
}

async function transferLeader(ctx: MemberContext, request: TransferLeaderRequest, call: Call): Promise<TransferLeaderResponse> {
  const target = validateMemberId(request.targetId);
  const node = ctx.requireLeader();
  if (!node.status().voters.includes(target)) {
    throw new KvcError('KVC_CODEC', { detail: `member ${target} is not a voter; only a voter can lead` });
  }
  if (target !== node.id) {
    node.transferLeader(target);
    await waitFor(ctx, node, call, (st) => st.leader === target, `member ${target} to lead`);
  }
  return { leaderId: target };
}

/** Polls the node until `done` holds, or fails with KVC_DEADLINE_EXCEEDED at the call's deadline. */
async function waitFor(ctx: MemberContext, node: ClusterNode, call: Call, done: (st: NodeStatus) => boolean, what: string): Promise<void> {
  const deadline = performance.now() + ctx.timeoutMs(call);
  for (;;) {
    if (node.stopped) throw new KvcError('KVC_NO_LEADER', { detail: `member ${node.id} stopped while waiting for ${what}` });
    if (done(node.status())) return;
    if (performance.now() >= deadline) throw new KvcError('KVC_DEADLINE_EXCEEDED', { detail: `timed out waiting for ${what}` });
    await new Promise((resolve) => setTimeout(resolve, CHANGE_POLL_MS));
  }
}
