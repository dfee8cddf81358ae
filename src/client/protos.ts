// Loads cache.proto and admin.proto with @grpc/proto-loader and exposes each RPC the client
// calls as a typed method descriptor (path, serializer, deserializer), so that one generic
// grpc.Client per endpoint can call both services over a single HTTP/2 connection. The loader
// options come from src/proto, which src/rpc uses too, so both ends read the same shapes.

import assert from 'node:assert/strict';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_DIR, PROTO_LOADER_OPTIONS } from '../proto/index.js';
import type {
  AddMemberRequest,
  DropNamespaceRequest,
  Empty,
  GetConfigResponse,
  GetPagesRequest,
  GetPagesResponse,
  KeysRequest,
  ListNamespacesResponse,
  ListRemovalsRequest,
  ListRemovalsResponse,
  ProfileChunk,
  ProfileRequest,
  LookupRequest,
  LookupResponse,
  PinPagesRequest,
  PutPagesRequest,
  ReleasePagesRequest,
  StatusRequest,
  PutPagesResponse,
  RemoveMemberRequest,
  SetConfigRequest,
  SetConfigResponse,
  SetNamespaceConfigRequest,
  SnapshotResponse,
  StatusResponse,
  TransferLeaderRequest,
  TransferLeaderResponse,
  WatchRequest,
  WatchResponse,
  ListPagesRequest,
  ListPagesResponse,
} from './proto-types.js';

/** Re-exported from src/proto, the one place that knows where the protos are and how to load them. */
export { PROTO_DIR, PROTO_LOADER_OPTIONS };

/** What the client needs to call one RPC. */
export interface Rpc<Req, Res> {
  path: string;
  serialize: (value: Req) => Buffer;
  deserialize: (bytes: Buffer) => Res;
}

export interface ClientRpcs {
  lookup: Rpc<LookupRequest, LookupResponse>;
  getPages: Rpc<GetPagesRequest, GetPagesResponse>;
  putPages: Rpc<PutPagesRequest, PutPagesResponse>;
  deletePages: Rpc<KeysRequest, Empty>;
  pinPages: Rpc<PinPagesRequest, Empty>;
  unpinPages: Rpc<KeysRequest, Empty>;
  releasePages: Rpc<ReleasePagesRequest, Empty>;
  watch: Rpc<WatchRequest, WatchResponse>;
  listPages: Rpc<ListPagesRequest, ListPagesResponse>;
  status: Rpc<StatusRequest, StatusResponse>;
  addMember: Rpc<AddMemberRequest, Empty>;
  removeMember: Rpc<RemoveMemberRequest, Empty>;
  transferLeader: Rpc<TransferLeaderRequest, TransferLeaderResponse>;
  snapshot: Rpc<Empty, SnapshotResponse>;
  dropNamespace: Rpc<DropNamespaceRequest, Empty>;
  getConfig: Rpc<Empty, GetConfigResponse>;
  setConfig: Rpc<SetConfigRequest, SetConfigResponse>;
  setNamespaceConfig: Rpc<SetNamespaceConfigRequest, Empty>;
  listNamespaces: Rpc<Empty, ListNamespacesResponse>;
  listRemovals: Rpc<ListRemovalsRequest, ListRemovalsResponse>;
  profile: Rpc<ProfileRequest, ProfileChunk>;
}

let loaded: ClientRpcs | undefined;

/** The client's RPC descriptors, loaded once per process. */
export function clientRpcs(): ClientRpcs {
  loaded ??= loadClientRpcs();
  return loaded;
}

function loadClientRpcs(): ClientRpcs {
  const definition = protoLoader.loadSync(['kvcache/v1/cache.proto', 'kvcache/v1/admin.proto'], PROTO_LOADER_OPTIONS);
  const cache = service(definition, 'kvcache.v1.CacheService');
  const admin = service(definition, 'kvcache.v1.AdminService');
  return {
    lookup: rpc(cache, 'Lookup'),
    getPages: rpc(cache, 'GetPages'),
    putPages: rpc(cache, 'PutPages'),
    deletePages: rpc(cache, 'DeletePages'),
    pinPages: rpc(cache, 'PinPages'),
    unpinPages: rpc(cache, 'UnpinPages'),
    releasePages: rpc(cache, 'ReleasePages'),
    watch: rpc(cache, 'Watch'),
    listPages: rpc(cache, 'ListPages'),
    status: rpc(admin, 'Status'),
    addMember: rpc(admin, 'AddMember'),
    removeMember: rpc(admin, 'RemoveMember'),
    transferLeader: rpc(admin, 'TransferLeader'),
    snapshot: rpc(admin, 'Snapshot'),
    dropNamespace: rpc(admin, 'DropNamespace'),
    getConfig: rpc(admin, 'GetConfig'),
    setConfig: rpc(admin, 'SetConfig'),
    setNamespaceConfig: rpc(admin, 'SetNamespaceConfig'),
    listNamespaces: rpc(admin, 'ListNamespaces'),
    listRemovals: rpc(admin, 'ListRemovals'),
    profile: rpc(admin, 'Profile'),
  };
}

function service(definition: protoLoader.PackageDefinition, name: string): protoLoader.ServiceDefinition {
  const found = definition[name];
  assert.ok(found !== undefined && !('format' in found), `${name} is not a service in the protos`);
  return found as protoLoader.ServiceDefinition;
}

/**
 * The descriptor of `service.name`, typed by the caller. The types are the hand-written shapes of
 * proto-types.ts; the loader cannot check them, which is why the tests run against real servers.
 */
function rpc<Req, Res>(service: protoLoader.ServiceDefinition, name: string): Rpc<Req, Res> {
  const method = service[name];
  assert.ok(method !== undefined, `RPC ${name} is missing from the protos`);
  return {
    path: method.path,
    serialize: method.requestSerialize as unknown as (value: Req) => Buffer,
    deserialize: method.responseDeserialize as unknown as (bytes: Buffer) => Res,
  };
}
