// Hand-written TypeScript shapes of the kvcache.v1 messages, as @grpc/proto-loader hands them to
// handlers and accepts them from handlers with the options in protos.ts (keepCase: false,
// longs: Number, enums: String, defaults: true, oneofs: true). Two shapes per message where they
// differ: what arrives (`...In`: every scalar present because of `defaults: true`, bytes as
// Buffer, an unset message field as null, an enum value the schema does not name as its number)
// and what a handler sends (`...Out`: fields may be left out and take their proto3 default).
//
// The wire contract itself is proto/kvcache/v1/*.proto; shapes both ends share are in src/proto,
// re-exported here. A field added to a .proto file is added here too.

import type { ProtoDtype, ProtoTransfer, SharedPageMessage } from '../proto/index.js';

export type {
  ProtoTransfer,
  SharedMemoryStatusMessage,
  SharedPageMessage,
  ProfileChunk,
  ProfileRequest,
  AddMemberRequest,
  ClusterSettingsMessage,
  ListNamespacesResponse,
  ListRemovalsRequest,
  ListRemovalsResponse,
  NamespaceStatusMessage,
  SetConfigRequest,
  SetConfigResponse,
  SetNamespaceConfigRequest,
  DropNamespaceRequest,
  Empty,
  GetConfigResponse,
  LookupResponse,
  Member,
  MemoryTierStatusMessage,
  NativeStatusMessage,
  ProtoDtype,
  PutPagesResponse,
  PutResult,
  RemoveMemberRequest,
  SnapshotResponse,
  StatusRequest,
  StatusResponse,
  TransferLeaderRequest,
  TransferLeaderResponse,
  WatchRequest,
  WatchResponse,
  WatchEventMessage,
  ListPagesRequest,
  ListPagesResponse,
  ListedPageMessage,
  WatchStatusMessage,
} from '../proto/index.js';

/** A number arrives when a sender used a Dtype value the schema does not name. */
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
  leaseMs: number;
  /** More prompts looked up alone each, answered in LookupResponse.moreMatched. */
  morePrompts: { keys: Buffer[] }[];
}

export interface GetPagesRequest {
  namespace: string;
  keys: Buffer[];
  asDtype: ProtoDtypeIn;
  layerBegin: number;
  layerEnd: number;
  /** Absent from a client that predates it (read as TRANSFER_UNSPECIFIED). */
  transfer?: ProtoTransfer | number;
  shmNonce?: Buffer;
  clientId?: Buffer;
}

export interface GetPagesResponse {
  /** Set on the first chunk of each page only. */
  meta?: PageMetaOut | null;
  data: Uint8Array;
  offset: number;
  last: boolean;
  /** Set instead of data for a page answered from the shared arena. */
  shared?: SharedPageMessage | null;
}

export interface ReleasePagesRequest {
  shmNonce: Buffer;
  clientId: Buffer;
  leaseIds: number[];
}

export interface PutPagesRequest {
  meta: PageMetaIn | null;
  data: Buffer;
  last: boolean;
}

/** DeletePages and UnpinPages. */
export interface KeysRequest {
  namespace: string;
  keys: Buffer[];
}

export interface PinPagesRequest extends KeysRequest {
  ttlMs: number;
}

// ---- admin.proto ----

// ---- peer.proto ----

export interface RaftBatchIn {
  from: number;
  to: number;
  messages: Buffer[];
  fromAddress: string;
  /** Empty when the batch carries none. */
  accessReport: Buffer;
}

export interface RaftBatchOut {
  from: number;
  to: number;
  messages: Uint8Array[];
  /** The sender's advertised address, so a receiver can answer a member it has no address for. */
  fromAddress: string;
  accessReport?: Uint8Array;
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
