// Original file: proto/kvcache/v1/peer.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { RaftAck as _kvcache_v1_RaftAck, RaftAck__Output as _kvcache_v1_RaftAck__Output } from '../../kvcache/v1/RaftAck.js';
import type { RaftBatch as _kvcache_v1_RaftBatch, RaftBatch__Output as _kvcache_v1_RaftBatch__Output } from '../../kvcache/v1/RaftBatch.js';
import type { SnapshotAck as _kvcache_v1_SnapshotAck, SnapshotAck__Output as _kvcache_v1_SnapshotAck__Output } from '../../kvcache/v1/SnapshotAck.js';
import type { SnapshotPart as _kvcache_v1_SnapshotPart, SnapshotPart__Output as _kvcache_v1_SnapshotPart__Output } from '../../kvcache/v1/SnapshotPart.js';

export interface PeerServiceClient extends grpc.Client {
  /**
   * A long-lived client stream per (sender, receiver) pair.
   */
  Raft(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  Raft(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  Raft(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  Raft(callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  /**
   * A long-lived client stream per (sender, receiver) pair.
   */
  raft(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  raft(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  raft(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  raft(callback: grpc.requestCallback<_kvcache_v1_RaftAck__Output>): grpc.ClientWritableStream<_kvcache_v1_RaftBatch>;
  
  Snapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  Snapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  Snapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  Snapshot(callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  snapshot(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  snapshot(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  snapshot(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  snapshot(callback: grpc.requestCallback<_kvcache_v1_SnapshotAck__Output>): grpc.ClientWritableStream<_kvcache_v1_SnapshotPart>;
  
}

export interface PeerServiceHandlers extends grpc.UntypedServiceImplementation {
  /**
   * A long-lived client stream per (sender, receiver) pair.
   */
  Raft: grpc.handleClientStreamingCall<_kvcache_v1_RaftBatch__Output, _kvcache_v1_RaftAck>;
  
  Snapshot: grpc.handleClientStreamingCall<_kvcache_v1_SnapshotPart__Output, _kvcache_v1_SnapshotAck>;
  
}

export interface PeerServiceDefinition extends grpc.ServiceDefinition {
  Raft: MethodDefinition<_kvcache_v1_RaftBatch, _kvcache_v1_RaftAck, _kvcache_v1_RaftBatch__Output, _kvcache_v1_RaftAck__Output>
  Snapshot: MethodDefinition<_kvcache_v1_SnapshotPart, _kvcache_v1_SnapshotAck, _kvcache_v1_SnapshotPart__Output, _kvcache_v1_SnapshotAck__Output>
}
