// Loads the kvcache.v1 protos with @grpc/proto-loader and holds the explicit channel and server
// options (CONVENTIONS: pass options to libraries explicitly). Where the protos are and the loader
// options come from src/proto, shared with the client.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { LIMITS } from '../limits.js';
import { PROTO_DIR, PROTO_FILES, PROTO_LOADER_OPTIONS, installReceiveRoom } from '../proto/index.js';
import { getPagesResponseSerializer, type Serializer } from './get-pages-codec.js';
import { lookupRequestDeserializer, lookupResponseSerializer } from './lookup-codec.js';
import { GuardedServer, malformedRequestInterceptor } from './malformed.js';
import { applyServerWindow } from './server-window.js';
import { watchResponseSerializer } from './watch-codec.js';

/** Re-exported from src/proto, the one place that knows where the protos are and how to load them. */
export { PROTO_DIR, PROTO_FILES, PROTO_LOADER_OPTIONS };

/** Fully qualified service names, as reflection and the health service name them. */
export const SERVICE_NAMES = {
  cache: 'kvcache.v1.CacheService',
  admin: 'kvcache.v1.AdminService',
  peer: 'kvcache.v1.PeerService',
} as const;

export interface LoadedProtos {
  cache: grpc.ServiceDefinition;
  admin: grpc.ServiceDefinition;
  peer: grpc.ServiceDefinition;
  /** All three files in one definition (what server reflection describes). */
  packageDefinition: protoLoader.PackageDefinition;
}

let loaded: LoadedProtos | undefined;

/** The service definitions of cache.proto, admin.proto and peer.proto (loaded once per process). */
export function loadProtos(): LoadedProtos {
  if (loaded !== undefined) return loaded;
  const packageDefinition = protoLoader.loadSync([...PROTO_FILES], PROTO_LOADER_OPTIONS);
  const service = (name: string): grpc.ServiceDefinition => {
    const definition = packageDefinition[name];
    if (definition === undefined || !isServiceDefinition(definition)) throw new Error(`proto service ${name} not found`);
    return definition as grpc.ServiceDefinition;
  };
  loaded = {
    cache: withLookupCodec(withWatchSerializer(withGetPagesSerializer(service(SERVICE_NAMES.cache)))),
    admin: service(SERVICE_NAMES.admin),
    peer: service(SERVICE_NAMES.peer),
    packageDefinition,
  };
  return loaded;
}

/** The cache service with GetPages' responses written by get-pages-codec.ts (no allocation per chunk). */
function withGetPagesSerializer(cache: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const getPages = cache.GetPages;
  if (getPages === undefined) throw new Error('GetPages is missing from the cache service');
  return { ...cache, GetPages: { ...getPages, responseSerialize: getPagesResponseSerializer(getPages.responseSerialize as Serializer) } };
}

/** The cache service with Lookup's request read and its response written by lookup-codec.ts. */
function withLookupCodec(cache: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const lookup = cache.Lookup;
  if (lookup === undefined) throw new Error('Lookup is missing from the cache service');
  return {
    ...cache,
    Lookup: {
      ...lookup,
      requestDeserialize: lookupRequestDeserializer(lookup.requestDeserialize as Parameters<typeof lookupRequestDeserializer>[0]),
      responseSerialize: lookupResponseSerializer(lookup.responseSerialize as Parameters<typeof lookupResponseSerializer>[0]),
    },
  };
}

/** The cache service with Watch's pre-encoded responses passed through (watch-codec.ts). */
function withWatchSerializer(cache: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const watch = cache.Watch;
  if (watch === undefined) throw new Error('Watch is missing from the cache service');
  return { ...cache, Watch: { ...watch, responseSerialize: watchResponseSerializer(watch.responseSerialize as (value: unknown) => Buffer) } };
}

function isServiceDefinition(value: object): boolean {
  // Message and enum entries carry a `format` field; service entries are maps of method definitions.
  return !('format' in value);
}

/**
 * Options of a member's one gRPC server. It serves clients and peers on one port, so its receive
 * limit is the peer limit (an append carrying a 32 MiB entry); the Cache service enforces the
 * smaller client message limit itself (cache-service.ts).
 */
export function serverOptions(): grpc.ServerOptions {
  return {
    'grpc.max_receive_message_length': LIMITS.rpc.peerMessageBytesMax,
    'grpc.max_send_message_length': LIMITS.rpc.clientMessageBytesMax,
  };
}

/**
 * A member's gRPC server: serverOptions(), every method's request deserializer guarded so bytes
 * that do not decode are answered INVALID_ARGUMENT/KVC_MALFORMED_REQUEST instead of grpc-js'
 * INTERNAL, on every service added to it, now or later (malformed.ts), and HTTP/2 windows as
 * large as its clients' (server-window.ts: grpc-js applies the window option to clients only),
 * and large messages received with room in front (installReceiveRoom).
 */
export function createServer(): grpc.Server {
  // A page that comes in one message becomes the leader's Raft entry in the buffer it arrived in
  // (src/proto receive-room.ts); where this grpc-js does not allow it, the page is copied as before.
  installReceiveRoom();
  const server = new GuardedServer({ ...serverOptions(), interceptors: [malformedRequestInterceptor] });
  applyServerWindow(server, LIMITS.rpc.flowControlWindowBytes);
  return server;
}

/** Reconnect backoff of peer channels: a restarted member is reached again within about a second. */
const PEER_RECONNECT_BACKOFF_INITIAL_MS = 100;
const PEER_RECONNECT_BACKOFF_MAX_MS = 1_000;
/** Keepalive pings find a peer whose machine vanished (no RST ever comes) within ~15 s. */
const PEER_KEEPALIVE_TIME_MS = 10_000;
const PEER_KEEPALIVE_TIMEOUT_MS = 5_000;

/** Options of a channel from one member to another (PeerService). */
export function peerChannelOptions(): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': LIMITS.rpc.peerMessageBytesMax,
    'grpc.max_send_message_length': LIMITS.rpc.peerMessageBytesMax,
    'grpc-node.flow_control_window': LIMITS.rpc.flowControlWindowBytes,
    'grpc.initial_reconnect_backoff_ms': PEER_RECONNECT_BACKOFF_INITIAL_MS,
    'grpc.max_reconnect_backoff_ms': PEER_RECONNECT_BACKOFF_MAX_MS,
    'grpc.keepalive_time_ms': PEER_KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': PEER_KEEPALIVE_TIMEOUT_MS,
  };
}

/** Options of a client channel to the Cache and Admin services (tests and tools in this folder). */
export function clientChannelOptions(): grpc.ChannelOptions {
  return {
    'grpc.max_receive_message_length': LIMITS.rpc.clientMessageBytesMax,
    'grpc.max_send_message_length': LIMITS.rpc.clientMessageBytesMax,
    'grpc-node.flow_control_window': LIMITS.rpc.flowControlWindowBytes,
  };
}

/**
 * What server reflection describes: the three kvcache.v1 files and grpc.health.v1, so tools
 * such as grpcurl can list and call every service a member serves.
 */
export function reflectionPackageDefinition(healthProtoPath: string): protoLoader.PackageDefinition {
  // grpc-health-check ships its proto as <root>/health/v1/health.proto.
  const healthRoot = path.resolve(path.dirname(healthProtoPath), '..', '..');
  const healthFile = path.relative(healthRoot, healthProtoPath);
  return protoLoader.loadSync([...PROTO_FILES, healthFile], { ...PROTO_LOADER_OPTIONS, includeDirs: [PROTO_DIR, healthRoot] });
}
