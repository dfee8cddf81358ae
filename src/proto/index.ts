// The TypeScript side of the wire contract (proto/kvcache/v1/*.proto): where the .proto files
// are, the @grpc/proto-loader options every process uses (CONVENTIONS: options spelled out), and
// the shapes of the messages that look the same to both ends under those options (camelCase
// fields, 64-bit integers as numbers, enums by name, defaults filled in). The server (src/rpc) and
// the client (src/client) add their own shapes where the two ends differ (bytes arrive as Buffer,
// an absent message field arrives as null, a sender may leave fields out). Both depend on this
// module and on no one else's, as DESIGN §3 asks of the client. A field added to a .proto file is
// added here too.
import { fileURLToPath } from 'node:url';
import type * as protoLoader from '@grpc/proto-loader';

/** The repository's proto root, found from this module so it works from any working directory. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto', import.meta.url));

export const PROTO_FILES = ['kvcache/v1/cache.proto', 'kvcache/v1/admin.proto', 'kvcache/v1/peer.proto'] as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});

/** The `Dtype` enum of cache.proto, by name. */
export type ProtoDtype = 'DTYPE_UNSPECIFIED' | 'FP16' | 'FP32' | 'BF16' | 'U8';

export type Empty = Record<string, never>;

// ---- cache.proto ----

export interface LookupResponse {
  matched: number;
  appliedIndex: number;
  /** One per request's morePrompts, in order (empty from a member that predates them). */
  moreMatched: number[];
}

export interface PutResult {
  key: Uint8Array;
  /** Empty when stored; a KVC_* code otherwise. */
  code: string;
  message: string;
}

export interface PutPagesResponse {
  results: PutResult[];
}

// ---- admin.proto ----

export interface Member {
  id: number;
  address: string;
  learner: boolean;
  matchIndex: number;
}

export interface NativeStatusMessage {
  loaded: boolean;
  reason: string;
  sse42: boolean;
  f16c: boolean;
  avx2: boolean;
}

export interface MemoryTierStatusMessage {
  arenaBytes: number;
  usedBytes: number;
  mlocked: boolean;
  /** The node each arena region is on; -1 when unknown. */
  numaNodes: number[];
  hits: number;
  misses: number;
  hitRatio: number;
  cachedPages: number;
  cachedBytes: number;
  evictions: number;
  promotionsSkipped: number;
  leasesHeld: number;
  pageBytesMax: number;
  hugePageAligned: boolean;
  cudaRegistered: boolean;
  note: string;
  /** Absent (null) when the arena is not in shared-memory files. */
  sharedMemory?: SharedMemoryStatusMessage | null;
}

export interface SharedMemoryFileMessage {
  path: string;
  fileBytes: number;
  dataOffset: number;
}

export interface SharedMemoryStatusMessage {
  files: SharedMemoryFileMessage[];
  /** SHA-256 of the nonce in every file's header. */
  nonceSha256: Uint8Array;
  leasesHeld: number;
  leasesMax: number;
  leasesPerClientMax: number;
  leaseMs: number;
  leasesGranted: number;
  leasesExpired: number;
  streamedLeasesFull: number;
}

/** The `Transfer` enum of cache.proto, by name. */
export type ProtoTransfer = 'TRANSFER_UNSPECIFIED' | 'TRANSFER_GRPC' | 'TRANSFER_SHARED_MEMORY';

/** cache.proto SharedPage: where a page is in the shared arena, under a lease. */
export interface SharedPageMessage {
  region: number;
  offset: number;
  length: number;
  leaseId: number;
  expiresInMs: number;
}

export interface StatusRequest {
  /** Ask for `digest` too; it reads the member's whole store, so leave it out unless needed. */
  includeDigest?: boolean;
}

export interface StatusResponse {
  id: number;
  address: string;
  role: string;
  term: number;
  commitIndex: number;
  appliedIndex: number;
  leaderId: number;
  leaderAddress: string;
  members: Member[];
  pages: number;
  bytes: number;
  pid: number;
  walFirstIndex: number;
  walLastIndex: number;
  walSegments: number;
  uptimeMs: number;
  /** sha256 (hex) of the member's whole store when the request set includeDigest; '' otherwise. */
  digest: string;
  /** Null from a member that predates the field (proto-loader decodes an absent message as null). */
  native: NativeStatusMessage | null;
  memoryTier: MemoryTierStatusMessage | null;
  /** Replicated removal counters (0 from a member that predates them). */
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
  settings: ClusterSettingsMessage | null;
  namespaces: NamespaceStatusMessage[];
  /** Member-local blob file figures (0 from a member that predates them). */
  blobBytes: number;
  blobGarbageBytes: number;
  blobFiles: number;
  blobGcRuns: number;
  /** http://host:port/metrics, or '' when the member serves no metrics. */
  metricsUrl: string;
  /** Test-only fault switches the member runs with (src/cli/unsafe-switches.ts); empty in production. */
  unsafeTestSwitches: string[];
  /** Null from a member that predates the Watch feed. */
  watch: WatchStatusMessage | null;
  /** With includeDigest: the page-set digest (src/codec/page-set-digest.ts) and its applied index. */
  pagesDigest: string;
  pagesDigestIndex: number;
}

export interface WatchStatusMessage {
  oldestIndex: number;
  events: number;
  bytes: number;
  watchers: number;
}

// ---- cache.proto: Watch and ListPages ----

export interface WatchRequest {
  namespace: string;
  fromIndex: number;
}

export type WatchEventTypeName = 'WATCH_EVENT_TYPE_UNSPECIFIED' | 'WATCH_EVENT_STORED' | 'WATCH_EVENT_REMOVED' | 'WATCH_EVENT_NAMESPACE_DROPPED' | 'WATCH_EVENT_PROGRESS';
export type RemovalReasonName = 'REMOVAL_REASON_UNSPECIFIED' | 'REMOVAL_REASON_EVICTED' | 'REMOVAL_REASON_DELETED' | 'REMOVAL_REASON_EXPIRED';

export interface WatchEventMessage {
  /** A number arrives for a type a newer server added. */
  type: WatchEventTypeName | number;
  index: number;
  namespace: string;
  key: Uint8Array;
  parentKey: Uint8Array;
  bytes: number;
  tokens: number;
  reason: RemovalReasonName | number;
  crc32c: number;
}

export interface WatchResponse {
  events: WatchEventMessage[];
}

export interface ListPagesRequest {
  namespace: string;
  pageToken: string;
  limit: number;
}

export interface ListedPageMessage {
  namespace: string;
  key: Uint8Array;
  parentKey: Uint8Array;
  bytes: number;
  tokens: number;
}

export interface ListPagesResponse {
  pages: ListedPageMessage[];
  appliedIndex: number;
  nextPageToken: string;
  watchFromIndex: number;
}

export interface ClusterSettingsMessage {
  budgetBytes: number;
  highWatermark: number;
  lowWatermark: number;
  evictionGraceMs: number;
  defaultTtlMs: number;
  replicated: boolean;
}

export interface NamespaceStatusMessage {
  namespace: string;
  pages: number;
  bytes: number;
  quotaBytes: number;
  defaultTtlMs: number;
  evictedPages: number;
  evictedBytes: number;
  expiredPages: number;
  lookupKeys: number;
  lookupHits: number;
}

export interface SetConfigRequest {
  key: string;
  value: string;
}

export interface SetConfigResponse {
  settings: ClusterSettingsMessage | null;
}

export interface SetNamespaceConfigRequest {
  namespace: string;
  key: string;
  value: string;
}

export interface ListNamespacesResponse {
  namespaces: NamespaceStatusMessage[];
  appliedIndex: number;
}

export interface ListRemovalsRequest {
  fromIndex: number;
  limit: number;
}

export interface RemovalMessage {
  index: number;
  namespace: string;
  /** Empty for a dropped namespace. */
  key: Uint8Array;
  reason: 'evicted' | 'expired' | 'deleted' | 'namespace-dropped';
}

export interface ListRemovalsResponse {
  removals: RemovalMessage[];
  oldestIndex: number;
  appliedIndex: number;
  more: boolean;
}

export interface ProfileRequest {
  seconds: number;
}

export interface ProfileChunk {
  data: Uint8Array;
}

export interface AddMemberRequest {
  id: number;
  address: string;
  learner: boolean;
}

export interface RemoveMemberRequest {
  id: number;
}

export interface TransferLeaderRequest {
  targetId: number;
}

export interface TransferLeaderResponse {
  leaderId: number;
}

export interface SnapshotResponse {
  walFirstIndex: number;
}

export interface DropNamespaceRequest {
  namespace: string;
}

export interface GetConfigResponse {
  json: string;
  settings: ClusterSettingsMessage | null;
}
