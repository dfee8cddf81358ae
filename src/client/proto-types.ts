// Hand-written TypeScript shapes of the kvcache.v1 messages the client sends and receives, as
// @grpc/proto-loader presents them with the options in protos.ts (camelCase fields, 64-bit
// integers as numbers, enums as their names, defaults filled in on decode, bytes as Buffer on
// decode). Shapes both ends share are in src/proto (re-exported here); the client does not import
// src/rpc, so it depends only on the protos and the codec (DESIGN: the client library is
// embeddable on its own). Request shapes list what the client sets; absent fields take the
// proto3 defaults.

import type { ProtoDtype, ProtoTransfer, SharedPageMessage } from '../proto/index.js';

export type {
  ProtoTransfer,
  SharedMemoryStatusMessage,
  SharedPageMessage,
  ProfileChunk,
  ProfileRequest,
  AddMemberRequest,
  ClusterSettingsMessage,
  DropNamespaceRequest,
  Empty,
  GetConfigResponse,
  ListNamespacesResponse,
  ListRemovalsRequest,
  LookupResponse,
  NamespaceStatusMessage,
  ProtoDtype,
  PutPagesResponse,
  PutResult,
  RemoveMemberRequest,
  SetConfigRequest,
  SetConfigResponse,
  SetNamespaceConfigRequest,
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

export interface WirePageMeta {
  namespace: string;
  key: Uint8Array;
  parentKey: Uint8Array;
  dtype: ProtoDtype;
  shape: number[];
  tokens: number;
  bytes: number;
  crc32c: number;
  ttlMs: number;
  storeDtype: ProtoDtype;
  createdAtMs: number;
}

export interface LookupRequest {
  namespace: string;
  keys: Uint8Array[];
  linearizable: boolean;
  /** Protect the matched pages from eviction this long (0 = no lease). */
  leaseMs: number;
  /** More prompts of the namespace, each answered alone in LookupResponse.moreMatched. */
  morePrompts?: { keys: Uint8Array[] }[];
}

export interface GetPagesRequest {
  namespace: string;
  keys: Uint8Array[];
  asDtype: ProtoDtype;
  layerBegin: number;
  layerEnd: number;
  transfer?: ProtoTransfer;
  shmNonce?: Uint8Array;
  clientId?: Uint8Array;
}

export interface GetPagesResponse {
  /** Null on every chunk but a page's first (proto-loader decodes an absent message as null). */
  meta: WirePageMeta | null;
  data: Uint8Array;
  offset: number;
  last: boolean;
  /** Null unless the page is answered from the shared arena (TRANSFER_SHARED_MEMORY). */
  shared?: SharedPageMessage | null;
}

export interface ReleasePagesRequest {
  shmNonce: Uint8Array;
  clientId: Uint8Array;
  leaseIds: number[];
}

export interface PutPagesRequest {
  meta?: Omit<WirePageMeta, 'createdAtMs'>;
  data: Uint8Array;
  last: boolean;
}

export interface KeysRequest {
  namespace: string;
  keys: Uint8Array[];
}

export interface PinPagesRequest extends KeysRequest {
  ttlMs: number;
}


export interface RemovalMessage {
  index: number;
  namespace: string;
  /** Empty for a dropped namespace; a Buffer on decode. */
  key: Uint8Array;
  reason: string;
}

export interface ListRemovalsResponse {
  removals: RemovalMessage[];
  oldestIndex: number;
  appliedIndex: number;
  more: boolean;
}
