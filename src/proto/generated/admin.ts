import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { AddMemberRequest as _kvcache_v1_AddMemberRequest, AddMemberRequest__Output as _kvcache_v1_AddMemberRequest__Output } from './kvcache/v1/AddMemberRequest.js';
import type { AddMemberResponse as _kvcache_v1_AddMemberResponse, AddMemberResponse__Output as _kvcache_v1_AddMemberResponse__Output } from './kvcache/v1/AddMemberResponse.js';
import type { AdminServiceClient as _kvcache_v1_AdminServiceClient, AdminServiceDefinition as _kvcache_v1_AdminServiceDefinition } from './kvcache/v1/AdminService.js';
import type { ClusterSettings as _kvcache_v1_ClusterSettings, ClusterSettings__Output as _kvcache_v1_ClusterSettings__Output } from './kvcache/v1/ClusterSettings.js';
import type { DirectIoStatus as _kvcache_v1_DirectIoStatus, DirectIoStatus__Output as _kvcache_v1_DirectIoStatus__Output } from './kvcache/v1/DirectIoStatus.js';
import type { DropNamespaceRequest as _kvcache_v1_DropNamespaceRequest, DropNamespaceRequest__Output as _kvcache_v1_DropNamespaceRequest__Output } from './kvcache/v1/DropNamespaceRequest.js';
import type { DropNamespaceResponse as _kvcache_v1_DropNamespaceResponse, DropNamespaceResponse__Output as _kvcache_v1_DropNamespaceResponse__Output } from './kvcache/v1/DropNamespaceResponse.js';
import type { GetConfigRequest as _kvcache_v1_GetConfigRequest, GetConfigRequest__Output as _kvcache_v1_GetConfigRequest__Output } from './kvcache/v1/GetConfigRequest.js';
import type { GetConfigResponse as _kvcache_v1_GetConfigResponse, GetConfigResponse__Output as _kvcache_v1_GetConfigResponse__Output } from './kvcache/v1/GetConfigResponse.js';
import type { ListNamespacesRequest as _kvcache_v1_ListNamespacesRequest, ListNamespacesRequest__Output as _kvcache_v1_ListNamespacesRequest__Output } from './kvcache/v1/ListNamespacesRequest.js';
import type { ListNamespacesResponse as _kvcache_v1_ListNamespacesResponse, ListNamespacesResponse__Output as _kvcache_v1_ListNamespacesResponse__Output } from './kvcache/v1/ListNamespacesResponse.js';
import type { ListRemovalsRequest as _kvcache_v1_ListRemovalsRequest, ListRemovalsRequest__Output as _kvcache_v1_ListRemovalsRequest__Output } from './kvcache/v1/ListRemovalsRequest.js';
import type { ListRemovalsResponse as _kvcache_v1_ListRemovalsResponse, ListRemovalsResponse__Output as _kvcache_v1_ListRemovalsResponse__Output } from './kvcache/v1/ListRemovalsResponse.js';
import type { Member as _kvcache_v1_Member, Member__Output as _kvcache_v1_Member__Output } from './kvcache/v1/Member.js';
import type { MemoryTierStatus as _kvcache_v1_MemoryTierStatus, MemoryTierStatus__Output as _kvcache_v1_MemoryTierStatus__Output } from './kvcache/v1/MemoryTierStatus.js';
import type { NamespaceStatus as _kvcache_v1_NamespaceStatus, NamespaceStatus__Output as _kvcache_v1_NamespaceStatus__Output } from './kvcache/v1/NamespaceStatus.js';
import type { NativeStatus as _kvcache_v1_NativeStatus, NativeStatus__Output as _kvcache_v1_NativeStatus__Output } from './kvcache/v1/NativeStatus.js';
import type { ProfileChunk as _kvcache_v1_ProfileChunk, ProfileChunk__Output as _kvcache_v1_ProfileChunk__Output } from './kvcache/v1/ProfileChunk.js';
import type { ProfileRequest as _kvcache_v1_ProfileRequest, ProfileRequest__Output as _kvcache_v1_ProfileRequest__Output } from './kvcache/v1/ProfileRequest.js';
import type { Removal as _kvcache_v1_Removal, Removal__Output as _kvcache_v1_Removal__Output } from './kvcache/v1/Removal.js';
import type { RemoveMemberRequest as _kvcache_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _kvcache_v1_RemoveMemberRequest__Output } from './kvcache/v1/RemoveMemberRequest.js';
import type { RemoveMemberResponse as _kvcache_v1_RemoveMemberResponse, RemoveMemberResponse__Output as _kvcache_v1_RemoveMemberResponse__Output } from './kvcache/v1/RemoveMemberResponse.js';
import type { SetConfigRequest as _kvcache_v1_SetConfigRequest, SetConfigRequest__Output as _kvcache_v1_SetConfigRequest__Output } from './kvcache/v1/SetConfigRequest.js';
import type { SetConfigResponse as _kvcache_v1_SetConfigResponse, SetConfigResponse__Output as _kvcache_v1_SetConfigResponse__Output } from './kvcache/v1/SetConfigResponse.js';
import type { SetNamespaceConfigRequest as _kvcache_v1_SetNamespaceConfigRequest, SetNamespaceConfigRequest__Output as _kvcache_v1_SetNamespaceConfigRequest__Output } from './kvcache/v1/SetNamespaceConfigRequest.js';
import type { SetNamespaceConfigResponse as _kvcache_v1_SetNamespaceConfigResponse, SetNamespaceConfigResponse__Output as _kvcache_v1_SetNamespaceConfigResponse__Output } from './kvcache/v1/SetNamespaceConfigResponse.js';
import type { SharedLookupStatus as _kvcache_v1_SharedLookupStatus, SharedLookupStatus__Output as _kvcache_v1_SharedLookupStatus__Output } from './kvcache/v1/SharedLookupStatus.js';
import type { SharedMemoryFile as _kvcache_v1_SharedMemoryFile, SharedMemoryFile__Output as _kvcache_v1_SharedMemoryFile__Output } from './kvcache/v1/SharedMemoryFile.js';
import type { SharedMemoryStatus as _kvcache_v1_SharedMemoryStatus, SharedMemoryStatus__Output as _kvcache_v1_SharedMemoryStatus__Output } from './kvcache/v1/SharedMemoryStatus.js';
import type { SnapshotRequest as _kvcache_v1_SnapshotRequest, SnapshotRequest__Output as _kvcache_v1_SnapshotRequest__Output } from './kvcache/v1/SnapshotRequest.js';
import type { SnapshotResponse as _kvcache_v1_SnapshotResponse, SnapshotResponse__Output as _kvcache_v1_SnapshotResponse__Output } from './kvcache/v1/SnapshotResponse.js';
import type { StatusRequest as _kvcache_v1_StatusRequest, StatusRequest__Output as _kvcache_v1_StatusRequest__Output } from './kvcache/v1/StatusRequest.js';
import type { StatusResponse as _kvcache_v1_StatusResponse, StatusResponse__Output as _kvcache_v1_StatusResponse__Output } from './kvcache/v1/StatusResponse.js';
import type { TransferLeaderRequest as _kvcache_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _kvcache_v1_TransferLeaderRequest__Output } from './kvcache/v1/TransferLeaderRequest.js';
import type { TransferLeaderResponse as _kvcache_v1_TransferLeaderResponse, TransferLeaderResponse__Output as _kvcache_v1_TransferLeaderResponse__Output } from './kvcache/v1/TransferLeaderResponse.js';
import type { WatchStatus as _kvcache_v1_WatchStatus, WatchStatus__Output as _kvcache_v1_WatchStatus__Output } from './kvcache/v1/WatchStatus.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvcache: {
    v1: {
      AddMemberRequest: MessageTypeDefinition<_kvcache_v1_AddMemberRequest, _kvcache_v1_AddMemberRequest__Output>
      AddMemberResponse: MessageTypeDefinition<_kvcache_v1_AddMemberResponse, _kvcache_v1_AddMemberResponse__Output>
      AdminService: SubtypeConstructor<typeof grpc.Client, _kvcache_v1_AdminServiceClient> & { service: _kvcache_v1_AdminServiceDefinition }
      ClusterSettings: MessageTypeDefinition<_kvcache_v1_ClusterSettings, _kvcache_v1_ClusterSettings__Output>
      DirectIoStatus: MessageTypeDefinition<_kvcache_v1_DirectIoStatus, _kvcache_v1_DirectIoStatus__Output>
      DropNamespaceRequest: MessageTypeDefinition<_kvcache_v1_DropNamespaceRequest, _kvcache_v1_DropNamespaceRequest__Output>
      DropNamespaceResponse: MessageTypeDefinition<_kvcache_v1_DropNamespaceResponse, _kvcache_v1_DropNamespaceResponse__Output>
      GetConfigRequest: MessageTypeDefinition<_kvcache_v1_GetConfigRequest, _kvcache_v1_GetConfigRequest__Output>
      GetConfigResponse: MessageTypeDefinition<_kvcache_v1_GetConfigResponse, _kvcache_v1_GetConfigResponse__Output>
      ListNamespacesRequest: MessageTypeDefinition<_kvcache_v1_ListNamespacesRequest, _kvcache_v1_ListNamespacesRequest__Output>
      ListNamespacesResponse: MessageTypeDefinition<_kvcache_v1_ListNamespacesResponse, _kvcache_v1_ListNamespacesResponse__Output>
      ListRemovalsRequest: MessageTypeDefinition<_kvcache_v1_ListRemovalsRequest, _kvcache_v1_ListRemovalsRequest__Output>
      ListRemovalsResponse: MessageTypeDefinition<_kvcache_v1_ListRemovalsResponse, _kvcache_v1_ListRemovalsResponse__Output>
      Member: MessageTypeDefinition<_kvcache_v1_Member, _kvcache_v1_Member__Output>
      MemoryTierStatus: MessageTypeDefinition<_kvcache_v1_MemoryTierStatus, _kvcache_v1_MemoryTierStatus__Output>
      NamespaceStatus: MessageTypeDefinition<_kvcache_v1_NamespaceStatus, _kvcache_v1_NamespaceStatus__Output>
      NativeStatus: MessageTypeDefinition<_kvcache_v1_NativeStatus, _kvcache_v1_NativeStatus__Output>
      ProfileChunk: MessageTypeDefinition<_kvcache_v1_ProfileChunk, _kvcache_v1_ProfileChunk__Output>
      ProfileRequest: MessageTypeDefinition<_kvcache_v1_ProfileRequest, _kvcache_v1_ProfileRequest__Output>
      Removal: MessageTypeDefinition<_kvcache_v1_Removal, _kvcache_v1_Removal__Output>
      RemoveMemberRequest: MessageTypeDefinition<_kvcache_v1_RemoveMemberRequest, _kvcache_v1_RemoveMemberRequest__Output>
      RemoveMemberResponse: MessageTypeDefinition<_kvcache_v1_RemoveMemberResponse, _kvcache_v1_RemoveMemberResponse__Output>
      SetConfigRequest: MessageTypeDefinition<_kvcache_v1_SetConfigRequest, _kvcache_v1_SetConfigRequest__Output>
      SetConfigResponse: MessageTypeDefinition<_kvcache_v1_SetConfigResponse, _kvcache_v1_SetConfigResponse__Output>
      SetNamespaceConfigRequest: MessageTypeDefinition<_kvcache_v1_SetNamespaceConfigRequest, _kvcache_v1_SetNamespaceConfigRequest__Output>
      SetNamespaceConfigResponse: MessageTypeDefinition<_kvcache_v1_SetNamespaceConfigResponse, _kvcache_v1_SetNamespaceConfigResponse__Output>
      SharedLookupStatus: MessageTypeDefinition<_kvcache_v1_SharedLookupStatus, _kvcache_v1_SharedLookupStatus__Output>
      SharedMemoryFile: MessageTypeDefinition<_kvcache_v1_SharedMemoryFile, _kvcache_v1_SharedMemoryFile__Output>
      SharedMemoryStatus: MessageTypeDefinition<_kvcache_v1_SharedMemoryStatus, _kvcache_v1_SharedMemoryStatus__Output>
      SnapshotRequest: MessageTypeDefinition<_kvcache_v1_SnapshotRequest, _kvcache_v1_SnapshotRequest__Output>
      SnapshotResponse: MessageTypeDefinition<_kvcache_v1_SnapshotResponse, _kvcache_v1_SnapshotResponse__Output>
      StatusRequest: MessageTypeDefinition<_kvcache_v1_StatusRequest, _kvcache_v1_StatusRequest__Output>
      StatusResponse: MessageTypeDefinition<_kvcache_v1_StatusResponse, _kvcache_v1_StatusResponse__Output>
      TransferLeaderRequest: MessageTypeDefinition<_kvcache_v1_TransferLeaderRequest, _kvcache_v1_TransferLeaderRequest__Output>
      TransferLeaderResponse: MessageTypeDefinition<_kvcache_v1_TransferLeaderResponse, _kvcache_v1_TransferLeaderResponse__Output>
      WatchStatus: MessageTypeDefinition<_kvcache_v1_WatchStatus, _kvcache_v1_WatchStatus__Output>
    }
  }
}

