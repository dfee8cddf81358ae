// Hand-written TypeScript shapes of the kvcache.v1 messages, as @grpc/proto-loader hands them to
// handlers and accepts them from handlers with the options in protos.ts (keepCase: false,
// longs: Number, enums: String, defaults: true, oneofs: true). Two shapes per message where they
// differ: what arrives (`...In`: every scalar present because of `defaults: true`, bytes as
// Buffer, an unset message field as null, an enum value the schema does not name as its number)
// and what a handler sends (`...Out`: fields may be left out and take their proto3 default).
//
// The wire contract itself is proto/kvcache/v1/*.proto; a field added there is added here too.

/** The Dtype enum by name. A number arrives when a sender used a value the schema does not name. */
export type ProtoDtype = 'DTYPE_UNSPECIFIED' | 'FP16' | 'FP32' | 'BF16' | 'U8';
export type ProtoDtypeIn = ProtoDtype | number;

// ---- cache.proto ----

export interface PageMetaIn {
  namespace: string;
  key: Buffer;
  parentKey: Buffer;
  dtype: ProtoDtypeIn;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs: number;
  storeDtype: ProtoDtypeIn;
  createdAtMs: number;
}

export interface PageMetaOut {
  namespace: string;
  key: Uint8Array;
  parentKey?: Uint8Array;
  dtype: ProtoDtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs?: number;
  storeDtype?: ProtoDtype;
  createdAtMs?: number;
}

export interface LookupRequest {
  namespace: string;
  keys: Buffer[];
  linearizable: boolean;
}

export interface LookupResponse {
  matched: number;
  appliedIndex: number;
}

export interface GetPagesRequest {
  namespace: string;
  keys: Buffer[];
  asDtype: ProtoDtypeIn;
  layerBegin: number;
  layerEnd: number;
}

export interface GetPagesResponse {
  /** Set on the first chunk of each page only. */
  meta?: PageMetaOut | null;
  data: Uint8Array;
  offset: number;
  last: boolean;
}

export interface PutPagesRequest {
  meta: PageMetaIn | null;
  data: Buffer;
  last: boolean;
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

/** DeletePages and UnpinPages. */
export interface KeysRequest {
  namespace: string;
  keys: Buffer[];
}

export interface PinPagesRequest extends KeysRequest {
  ttlMs: number;
}

export type Empty = Record<string, never>;

// ---- admin.proto ----

export interface MemberOut {
  id: number;
  address: string;
  learner: boolean;
  matchIndex: number;
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
  members: MemberOut[];
  pages: number;
  bytes: number;
  pid: number;
  walFirstIndex: number;
  walLastIndex: number;
  walSegments: number;
  uptimeMs: number;
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
}

// ---- peer.proto ----

export interface RaftBatchIn {
  from: number;
  to: number;
  messages: Buffer[];
  fromAddress: string;
}

export interface RaftBatchOut {
  from: number;
  to: number;
  messages: Uint8Array[];
  /** The sender's advertised address, so a receiver can answer a member it has no address for. */
  fromAddress: string;
}

export interface SnapshotPartIn {
  message: Buffer;
  seq: number;
  data: Buffer;
  crc32c: number;
  last: boolean;
  totalCrc32c: number;
  appliedIndex: number;
}

export interface SnapshotPartOut {
  message?: Uint8Array;
  seq: number;
  data: Uint8Array;
  crc32c: number;
  last: boolean;
  totalCrc32c?: number;
  appliedIndex?: number;
}

export interface SnapshotAck {
  installed: boolean;
}
