import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { PeerServiceClient as _kvcache_v1_PeerServiceClient, PeerServiceDefinition as _kvcache_v1_PeerServiceDefinition } from './kvcache/v1/PeerService.js';
import type { RaftAck as _kvcache_v1_RaftAck, RaftAck__Output as _kvcache_v1_RaftAck__Output } from './kvcache/v1/RaftAck.js';
import type { RaftBatch as _kvcache_v1_RaftBatch, RaftBatch__Output as _kvcache_v1_RaftBatch__Output } from './kvcache/v1/RaftBatch.js';
import type { SnapshotAck as _kvcache_v1_SnapshotAck, SnapshotAck__Output as _kvcache_v1_SnapshotAck__Output } from './kvcache/v1/SnapshotAck.js';
import type { SnapshotPart as _kvcache_v1_SnapshotPart, SnapshotPart__Output as _kvcache_v1_SnapshotPart__Output } from './kvcache/v1/SnapshotPart.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvcache: {
    v1: {
      PeerService: SubtypeConstructor<typeof grpc.Client, _kvcache_v1_PeerServiceClient> & { service: _kvcache_v1_PeerServiceDefinition }
      RaftAck: MessageTypeDefinition<_kvcache_v1_RaftAck, _kvcache_v1_RaftAck__Output>
      RaftBatch: MessageTypeDefinition<_kvcache_v1_RaftBatch, _kvcache_v1_RaftBatch__Output>
      SnapshotAck: MessageTypeDefinition<_kvcache_v1_SnapshotAck, _kvcache_v1_SnapshotAck__Output>
      SnapshotPart: MessageTypeDefinition<_kvcache_v1_SnapshotPart, _kvcache_v1_SnapshotPart__Output>
    }
  }
}

