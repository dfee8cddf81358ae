// Exposes each RPC the client calls (cache.proto and admin.proto) as a typed method descriptor
// (path, serializer, deserializer), so that one generic grpc.Client per endpoint can call both
// services over a single HTTP/2 connection. The loader options come from src/proto, which src/rpc
// uses too, so both ends read the same shapes.
//
// What @grpc/proto-loader's loadSync does (parse the .proto text, build every type by reflection,
// generate its encoder, decoder and converters with `new Function` on first use) costs a `kvc`
// call tens of milliseconds. Instead the messages come as protobufjs static code generated at build
// time (src/proto's clientMessageTypes and CLIENT_SERVICES, `npm run gen:proto`, checked for
// staleness by test/proto/generated.test.ts), run on the minimal build of the protobufjs that
// proto-loader itself uses, and each method's serializer and deserializer do what proto-loader's
// do (createSerializer, createDeserializer in its build/src/index.js), so the bytes and objects are
// the same; test/client/protos.test.ts compares them with loadSync's.

import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { CLIENT_SERVICES, clientMessageTypes, PROTO_DIR, PROTO_LOADER_OPTIONS } from '../proto/index.js';
import type {
  AddMemberRequest,
  AddMemberResponse__Output,
  DeletePagesRequest,
  DeletePagesResponse__Output,
  DropNamespaceRequest,
  DropNamespaceResponse__Output,
  GetConfigRequest,
  GetConfigResponse__Output,
  GetPagesRequest,
  GetPagesResponse__Output,
  ListNamespacesRequest,
  ListNamespacesResponse__Output,
  ListPagesRequest,
  ListPagesResponse__Output,
  ListRemovalsRequest,
  ListRemovalsResponse__Output,
  LookupRequest,
  LookupResponse__Output,
  PageMeta,
  PinPagesRequest,
  PinPagesResponse__Output,
  ProfileChunk__Output,
  ProfileRequest,
  PutPagesRequest,
  PutPagesResponse__Output,
  ReleasePagesRequest,
  ReleasePagesResponse__Output,
  RemoveMemberRequest,
  RemoveMemberResponse__Output,
  SetConfigRequest,
  SetConfigResponse__Output,
  SetNamespaceConfigRequest,
  SetNamespaceConfigResponse__Output,
  SnapshotRequest,
  SnapshotResponse__Output,
  StatusRequest,
  StatusResponse__Output,
  TransferLeaderRequest,
  TransferLeaderResponse__Output,
  UnpinPagesRequest,
  UnpinPagesResponse__Output,
  WatchRequest,
  WatchResponse__Output,
} from '../proto/index.js';

/** Re-exported from src/proto, the one place that knows where the protos are and how to load them. */
export { PROTO_DIR, PROTO_LOADER_OPTIONS };

/** What the client needs to call one RPC. */
export interface Rpc<Req, Res> {
  path: string;
  serialize: (value: Req) => Buffer;
  deserialize: (bytes: Buffer) => Res;
}

/** Each RPC with the generated types (src/proto): a request as the client writes it, a response as it arrives. */
export interface ClientRpcs {
  lookup: Rpc<LookupRequest, LookupResponse__Output>;
  getPages: Rpc<GetPagesRequest, GetPagesResponse__Output>;
  putPages: Rpc<PutPagesRequest, PutPagesResponse__Output>;
  deletePages: Rpc<DeletePagesRequest, DeletePagesResponse__Output>;
  pinPages: Rpc<PinPagesRequest, PinPagesResponse__Output>;
  unpinPages: Rpc<UnpinPagesRequest, UnpinPagesResponse__Output>;
  releasePages: Rpc<ReleasePagesRequest, ReleasePagesResponse__Output>;
  watch: Rpc<WatchRequest, WatchResponse__Output>;
  listPages: Rpc<ListPagesRequest, ListPagesResponse__Output>;
  status: Rpc<StatusRequest, StatusResponse__Output>;
  addMember: Rpc<AddMemberRequest, AddMemberResponse__Output>;
  removeMember: Rpc<RemoveMemberRequest, RemoveMemberResponse__Output>;
  transferLeader: Rpc<TransferLeaderRequest, TransferLeaderResponse__Output>;
  snapshot: Rpc<SnapshotRequest, SnapshotResponse__Output>;
  dropNamespace: Rpc<DropNamespaceRequest, DropNamespaceResponse__Output>;
  getConfig: Rpc<GetConfigRequest, GetConfigResponse__Output>;
  setConfig: Rpc<SetConfigRequest, SetConfigResponse__Output>;
  setNamespaceConfig: Rpc<SetNamespaceConfigRequest, SetNamespaceConfigResponse__Output>;
  listNamespaces: Rpc<ListNamespacesRequest, ListNamespacesResponse__Output>;
  listRemovals: Rpc<ListRemovalsRequest, ListRemovalsResponse__Output>;
  profile: Rpc<ProfileRequest, ProfileChunk__Output>;
}

let loaded: ClientRpcs | undefined;

/** The client's RPC descriptors, loaded once per process. */
export function clientRpcs(): ClientRpcs {
  loaded ??= loadClientRpcs();
  return loaded;
}

/** A PageMeta's protobuf bytes, from the static code (put-request.ts writes the rest of a PutPagesRequest). */
export function encodePageMeta(meta: PageMeta): Uint8Array {
  const type = messageTypes().PageMeta;
  assert.ok(type !== undefined, 'PageMeta is missing from the generated code');
  return type.encode(type.fromObject(meta)).finish();
}

let typesLoaded: Record<string, MessageType | undefined> | undefined;

/** The static code's message types, built once per process. */
function messageTypes(): Record<string, MessageType | undefined> {
  typesLoaded ??= clientMessageTypes(protobufMinimal()) as Record<string, MessageType | undefined>;
  return typesLoaded;
}

/** What the static code of one message offers the client. */
interface MessageType {
  name: string;
  fromObject(object: unknown): unknown;
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  toObject(message: unknown, options: object): unknown;
}

/** protobufjs as @grpc/proto-loader resolves it (its dependency, not ours), minimal build. */
function protobufMinimal(): unknown {
  const fromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
  return fromLoader('protobufjs/minimal');
}

function loadClientRpcs(): ClientRpcs {
  const types = messageTypes();
  const cache = service(types, 'kvcache.v1.CacheService');
  const admin = service(types, 'kvcache.v1.AdminService');
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

interface Service {
  name: string;
  types: Record<string, MessageType | undefined>;
  methods: Record<string, [string, string]>;
}

function service(types: Record<string, MessageType | undefined>, name: string): Service {
  const methods = CLIENT_SERVICES[name];
  assert.ok(methods !== undefined, `service ${name} is missing from the generated protos`);
  return { name, types, methods };
}

/**
 * The descriptor of `service.name`, typed by the caller with the types generated from the same
 * protos and loader options (src/proto); nothing here checks that `name` is the RPC those types
 * belong to, which is why the tests run against real servers.
 */
function rpc<Req, Res>(service: Service, name: string): Rpc<Req, Res> {
  const method = service.methods[name];
  assert.ok(method !== undefined, `RPC ${name} is missing from the protos`);
  const request = service.types[method[0]];
  const response = service.types[method[1]];
  assert.ok(request !== undefined && response !== undefined, `RPC ${name}: its message types are missing from the generated code`);
  return {
    path: `/${service.name}/${name}`,
    serialize: (value: Req) => {
      // The check and its words are proto-loader's serializer's.
      if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${request.name} structure, got array instead`);
      return request.encode(request.fromObject(value)).finish() as Buffer;
    },
    deserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), PROTO_LOADER_OPTIONS) as Res,
  };
}
