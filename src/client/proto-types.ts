// Hand-written TypeScript shapes of the kvcache.v1 messages the client sends and receives, as
// @grpc/proto-loader presents them with the options in protos.ts (camelCase fields, 64-bit
// integers as numbers, enums as their names, defaults filled in on decode, bytes as Buffer on
// decode). The client keeps its own copy instead of importing src/rpc's so that it depends only
// on the protos and the codec (DESIGN: the client library is embeddable on its own).
// Request shapes list what the client sets; absent fields take the proto3 defaults.

/** The `Dtype` enum of cache.proto, by name. */
export type WireDtype = 'DTYPE_UNSPECIFIED' | 'FP16' | 'FP32' | 'BF16' | 'U8';

export interface WirePageMeta {
  namespace: string;
  key: Uint8Array;
  parentKey: Uint8Array;
  dtype: WireDtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs: number;
  storeDtype: WireDtype;
  createdAtMs: number;
}

export interface LookupRequest {
  namespace: string;
  keys: Uint8Array[];
  linearizable: boolean;
}

export interface LookupResponse {
  matched: number;
  appliedIndex: number;
}

export interface GetPagesRequest {
  namespace: string;
  keys: Uint8Array[];
  asDtype: WireDtype;
  layerBegin: number;
  layerEnd: number;
}

export interface GetPagesResponse {
  /** Null on every chunk but a page's first (proto-loader decodes an absent message as null). */
  meta: WirePageMeta | null;
  data: Uint8Array;
  offset: number;
  last: boolean;
}

export interface PutPagesRequest {
  meta?: Omit<WirePageMeta, 'createdAtMs'>;
  data: Uint8Array;
  last: boolean;
}

export interface PutResult {
  key: Uint8Array;
  code: string;
  message: string;
}

export interface PutPagesResponse {
  results: PutResult[];
}

export interface KeysRequest {
  namespace: string;
  keys: Uint8Array[];
}

export interface PinPagesRequest extends KeysRequest {
  ttlMs: number;
}

export type Empty = Record<string, never>;

export interface WireMember {
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
  members: WireMember[];
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
