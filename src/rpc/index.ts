// The public surface of src/rpc: the gRPC services of a member (Cache, Admin, Peer) and the
// context they share, the gRPC peer transport, and the proto loading shared with tools and
// tests. What wires them into one member process (startMember) is src/member, above this folder.
export { cacheServiceHandlers, PUT_STREAM_INFLIGHT_BYTES_MAX } from './cache-service.js';
export { adminServiceHandlers } from './admin-service.js';
export { PeerService } from './peer-service.js';
export { MemberContext, DEFAULT_REQUEST_TIMEOUT_MS, type MemberContextOptions } from './member-context.js';
export { GrpcTransport, PEER_OUTBOX_BYTES_MAX, type GrpcTransportOptions, type TransportCounters } from './grpc-transport.js';
export { AddressBook, ADDRESS_BOOK_FILE } from './address-book.js';
export {
  loadProtos,
  reflectionPackageDefinition,
  serverOptions,
  createServer,
  peerChannelOptions,
  clientChannelOptions,
  PROTO_DIR,
  PROTO_FILES,
  PROTO_LOADER_OPTIONS,
  SERVICE_NAMES,
  type LoadedProtos,
} from './protos.js';
export { applyServerWindow } from './server-window.js';
export { acceptPeerSockets, PeerSocketStream, PEER_SOCKET_HELLO, PEER_SOCKET_STALL_MS, type PeerSocketEnd, type SocketLane } from './peer-socket.js';
export { PutLaneServer } from './put-lane.js';
export { toServiceError, KVC_CODE_TRAILER, LEADER_TRAILER, type ServiceErrorObject } from './errors.js';
export { authorize, authorizePeer, hashToken, AccessPolicy, SCOPES, ALL_NAMESPACES, type Scope, type TokenGrant } from './auth.js';
export { MemberCertificates, memberIdsOf, MEMBER_URI_PREFIX, type TlsFiles } from './tls.js';
export type * from '../proto/index.js';
