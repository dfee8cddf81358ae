// Original file: proto/kvcache/v1/admin.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { AddMemberRequest as _kvcache_v1_AddMemberRequest, AddMemberRequest__Output as _kvcache_v1_AddMemberRequest__Output } from '../../kvcache/v1/AddMemberRequest.js';
import type { AddMemberResponse as _kvcache_v1_AddMemberResponse, AddMemberResponse__Output as _kvcache_v1_AddMemberResponse__Output } from '../../kvcache/v1/AddMemberResponse.js';
import type { DropNamespaceRequest as _kvcache_v1_DropNamespaceRequest, DropNamespaceRequest__Output as _kvcache_v1_DropNamespaceRequest__Output } from '../../kvcache/v1/DropNamespaceRequest.js';
import type { DropNamespaceResponse as _kvcache_v1_DropNamespaceResponse, DropNamespaceResponse__Output as _kvcache_v1_DropNamespaceResponse__Output } from '../../kvcache/v1/DropNamespaceResponse.js';
import type { GetConfigRequest as _kvcache_v1_GetConfigRequest, GetConfigRequest__Output as _kvcache_v1_GetConfigRequest__Output } from '../../kvcache/v1/GetConfigRequest.js';
import type { GetConfigResponse as _kvcache_v1_GetConfigResponse, GetConfigResponse__Output as _kvcache_v1_GetConfigResponse__Output } from '../../kvcache/v1/GetConfigResponse.js';
import type { ListNamespacesRequest as _kvcache_v1_ListNamespacesRequest, ListNamespacesRequest__Output as _kvcache_v1_ListNamespacesRequest__Output } from '../../kvcache/v1/ListNamespacesRequest.js';
import type { ListNamespacesResponse as _kvcache_v1_ListNamespacesResponse, ListNamespacesResponse__Output as _kvcache_v1_ListNamespacesResponse__Output } from '../../kvcache/v1/ListNamespacesResponse.js';
import type { ListRemovalsRequest as _kvcache_v1_ListRemovalsRequest, ListRemovalsRequest__Output as _kvcache_v1_ListRemovalsRequest__Output } from '../../kvcache/v1/ListRemovalsRequest.js';
import type { ListRemovalsResponse as _kvcache_v1_ListRemovalsResponse, ListRemovalsResponse__Output as _kvcache_v1_ListRemovalsResponse__Output } from '../../kvcache/v1/ListRemovalsResponse.js';
import type { ProfileChunk as _kvcache_v1_ProfileChunk, ProfileChunk__Output as _kvcache_v1_ProfileChunk__Output } from '../../kvcache/v1/ProfileChunk.js';
import type { ProfileRequest as _kvcache_v1_ProfileRequest, ProfileRequest__Output as _kvcache_v1_ProfileRequest__Output } from '../../kvcache/v1/ProfileRequest.js';
import type { RemoveMemberRequest as _kvcache_v1_RemoveMemberRequest, RemoveMemberRequest__Output as _kvcache_v1_RemoveMemberRequest__Output } from '../../kvcache/v1/RemoveMemberRequest.js';
import type { RemoveMemberResponse as _kvcache_v1_RemoveMemberResponse, RemoveMemberResponse__Output as _kvcache_v1_RemoveMemberResponse__Output } from '../../kvcache/v1/RemoveMemberResponse.js';
import type { SetConfigRequest as _kvcache_v1_SetConfigRequest, SetConfigRequest__Output as _kvcache_v1_SetConfigRequest__Output } from '../../kvcache/v1/SetConfigRequest.js';
import type { SetConfigResponse as _kvcache_v1_SetConfigResponse, SetConfigResponse__Output as _kvcache_v1_SetConfigResponse__Output } from '../../kvcache/v1/SetConfigResponse.js';
import type { SetNamespaceConfigRequest as _kvcache_v1_SetNamespaceConfigRequest, SetNamespaceConfigRequest__Output as _kvcache_v1_SetNamespaceConfigRequest__Output } from '../../kvcache/v1/SetNamespaceConfigRequest.js';
import type { SetNamespaceConfigResponse as _kvcache_v1_SetNamespaceConfigResponse, SetNamespaceConfigResponse__Output as _kvcache_v1_SetNamespaceConfigResponse__Output } from '../../kvcache/v1/SetNamespaceConfigResponse.js';
import type { SnapshotRequest as _kvcache_v1_SnapshotRequest, SnapshotRequest__Output as _kvcache_v1_SnapshotRequest__Output } from '../../kvcache/v1/SnapshotRequest.js';
import type { SnapshotResponse as _kvcache_v1_SnapshotResponse, SnapshotResponse__Output as _kvcache_v1_SnapshotResponse__Output } from '../../kvcache/v1/SnapshotResponse.js';
import type { StatusRequest as _kvcache_v1_StatusRequest, StatusRequest__Output as _kvcache_v1_StatusRequest__Output } from '../../kvcache/v1/StatusRequest.js';
import type { StatusResponse as _kvcache_v1_StatusResponse, StatusResponse__Output as _kvcache_v1_StatusResponse__Output } from '../../kvcache/v1/StatusResponse.js';
import type { TransferLeaderRequest as _kvcache_v1_TransferLeaderRequest, TransferLeaderRequest__Output as _kvcache_v1_TransferLeaderRequest__Output } from '../../kvcache/v1/TransferLeaderRequest.js';
import type { TransferLeaderResponse as _kvcache_v1_TransferLeaderResponse, TransferLeaderResponse__Output as _kvcache_v1_TransferLeaderResponse__Output } from '../../kvcache/v1/TransferLeaderResponse.js';

export interface AdminServiceClient extends grpc.Client {
  AddMember(argument: _kvcache_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _kvcache_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _kvcache_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  AddMember(argument: _kvcache_v1_AddMemberRequest, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _kvcache_v1_AddMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _kvcache_v1_AddMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _kvcache_v1_AddMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  addMember(argument: _kvcache_v1_AddMemberRequest, callback: grpc.requestCallback<_kvcache_v1_AddMemberResponse__Output>): grpc.ClientUnaryCall;
  
  DropNamespace(argument: _kvcache_v1_DropNamespaceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  DropNamespace(argument: _kvcache_v1_DropNamespaceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  DropNamespace(argument: _kvcache_v1_DropNamespaceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  DropNamespace(argument: _kvcache_v1_DropNamespaceRequest, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  dropNamespace(argument: _kvcache_v1_DropNamespaceRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  dropNamespace(argument: _kvcache_v1_DropNamespaceRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  dropNamespace(argument: _kvcache_v1_DropNamespaceRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  dropNamespace(argument: _kvcache_v1_DropNamespaceRequest, callback: grpc.requestCallback<_kvcache_v1_DropNamespaceResponse__Output>): grpc.ClientUnaryCall;
  
  GetConfig(argument: _kvcache_v1_GetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _kvcache_v1_GetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _kvcache_v1_GetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  GetConfig(argument: _kvcache_v1_GetConfigRequest, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _kvcache_v1_GetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _kvcache_v1_GetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _kvcache_v1_GetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  getConfig(argument: _kvcache_v1_GetConfigRequest, callback: grpc.requestCallback<_kvcache_v1_GetConfigResponse__Output>): grpc.ClientUnaryCall;
  
  ListNamespaces(argument: _kvcache_v1_ListNamespacesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  ListNamespaces(argument: _kvcache_v1_ListNamespacesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  ListNamespaces(argument: _kvcache_v1_ListNamespacesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  ListNamespaces(argument: _kvcache_v1_ListNamespacesRequest, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  listNamespaces(argument: _kvcache_v1_ListNamespacesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  listNamespaces(argument: _kvcache_v1_ListNamespacesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  listNamespaces(argument: _kvcache_v1_ListNamespacesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  listNamespaces(argument: _kvcache_v1_ListNamespacesRequest, callback: grpc.requestCallback<_kvcache_v1_ListNamespacesResponse__Output>): grpc.ClientUnaryCall;
  
  ListRemovals(argument: _kvcache_v1_ListRemovalsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  ListRemovals(argument: _kvcache_v1_ListRemovalsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  ListRemovals(argument: _kvcache_v1_ListRemovalsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  ListRemovals(argument: _kvcache_v1_ListRemovalsRequest, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  listRemovals(argument: _kvcache_v1_ListRemovalsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  listRemovals(argument: _kvcache_v1_ListRemovalsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  listRemovals(argument: _kvcache_v1_ListRemovalsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  listRemovals(argument: _kvcache_v1_ListRemovalsRequest, callback: grpc.requestCallback<_kvcache_v1_ListRemovalsResponse__Output>): grpc.ClientUnaryCall;
  
  Profile(argument: _kvcache_v1_ProfileRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_ProfileChunk__Output>;
  Profile(argument: _kvcache_v1_ProfileRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_ProfileChunk__Output>;
  profile(argument: _kvcache_v1_ProfileRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_ProfileChunk__Output>;
  profile(argument: _kvcache_v1_ProfileRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_ProfileChunk__Output>;
  
  RemoveMember(argument: _kvcache_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvcache_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvcache_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  RemoveMember(argument: _kvcache_v1_RemoveMemberRequest, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvcache_v1_RemoveMemberRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvcache_v1_RemoveMemberRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvcache_v1_RemoveMemberRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  removeMember(argument: _kvcache_v1_RemoveMemberRequest, callback: grpc.requestCallback<_kvcache_v1_RemoveMemberResponse__Output>): grpc.ClientUnaryCall;
  
  SetConfig(argument: _kvcache_v1_SetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  SetConfig(argument: _kvcache_v1_SetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  SetConfig(argument: _kvcache_v1_SetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  SetConfig(argument: _kvcache_v1_SetConfigRequest, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  setConfig(argument: _kvcache_v1_SetConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  setConfig(argument: _kvcache_v1_SetConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  setConfig(argument: _kvcache_v1_SetConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  setConfig(argument: _kvcache_v1_SetConfigRequest, callback: grpc.requestCallback<_kvcache_v1_SetConfigResponse__Output>): grpc.ClientUnaryCall;
  
  SetNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  SetNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  SetNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  SetNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  setNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  setNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  setNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  setNamespaceConfig(argument: _kvcache_v1_SetNamespaceConfigRequest, callback: grpc.requestCallback<_kvcache_v1_SetNamespaceConfigResponse__Output>): grpc.ClientUnaryCall;
  
  Snapshot(argument: _kvcache_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvcache_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvcache_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  Snapshot(argument: _kvcache_v1_SnapshotRequest, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvcache_v1_SnapshotRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvcache_v1_SnapshotRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvcache_v1_SnapshotRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  snapshot(argument: _kvcache_v1_SnapshotRequest, callback: grpc.requestCallback<_kvcache_v1_SnapshotResponse__Output>): grpc.ClientUnaryCall;
  
  Status(argument: _kvcache_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvcache_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvcache_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  Status(argument: _kvcache_v1_StatusRequest, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvcache_v1_StatusRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvcache_v1_StatusRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvcache_v1_StatusRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  status(argument: _kvcache_v1_StatusRequest, callback: grpc.requestCallback<_kvcache_v1_StatusResponse__Output>): grpc.ClientUnaryCall;
  
  TransferLeader(argument: _kvcache_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvcache_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvcache_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  TransferLeader(argument: _kvcache_v1_TransferLeaderRequest, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvcache_v1_TransferLeaderRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvcache_v1_TransferLeaderRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvcache_v1_TransferLeaderRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  transferLeader(argument: _kvcache_v1_TransferLeaderRequest, callback: grpc.requestCallback<_kvcache_v1_TransferLeaderResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface AdminServiceHandlers extends grpc.UntypedServiceImplementation {
  AddMember: grpc.handleUnaryCall<_kvcache_v1_AddMemberRequest__Output, _kvcache_v1_AddMemberResponse>;
  
  DropNamespace: grpc.handleUnaryCall<_kvcache_v1_DropNamespaceRequest__Output, _kvcache_v1_DropNamespaceResponse>;
  
  GetConfig: grpc.handleUnaryCall<_kvcache_v1_GetConfigRequest__Output, _kvcache_v1_GetConfigResponse>;
  
  ListNamespaces: grpc.handleUnaryCall<_kvcache_v1_ListNamespacesRequest__Output, _kvcache_v1_ListNamespacesResponse>;
  
  ListRemovals: grpc.handleUnaryCall<_kvcache_v1_ListRemovalsRequest__Output, _kvcache_v1_ListRemovalsResponse>;
  
  Profile: grpc.handleServerStreamingCall<_kvcache_v1_ProfileRequest__Output, _kvcache_v1_ProfileChunk>;
  
  RemoveMember: grpc.handleUnaryCall<_kvcache_v1_RemoveMemberRequest__Output, _kvcache_v1_RemoveMemberResponse>;
  
  SetConfig: grpc.handleUnaryCall<_kvcache_v1_SetConfigRequest__Output, _kvcache_v1_SetConfigResponse>;
  
  SetNamespaceConfig: grpc.handleUnaryCall<_kvcache_v1_SetNamespaceConfigRequest__Output, _kvcache_v1_SetNamespaceConfigResponse>;
  
  Snapshot: grpc.handleUnaryCall<_kvcache_v1_SnapshotRequest__Output, _kvcache_v1_SnapshotResponse>;
  
  Status: grpc.handleUnaryCall<_kvcache_v1_StatusRequest__Output, _kvcache_v1_StatusResponse>;
  
  TransferLeader: grpc.handleUnaryCall<_kvcache_v1_TransferLeaderRequest__Output, _kvcache_v1_TransferLeaderResponse>;
  
}

export interface AdminServiceDefinition extends grpc.ServiceDefinition {
  AddMember: MethodDefinition<_kvcache_v1_AddMemberRequest, _kvcache_v1_AddMemberResponse, _kvcache_v1_AddMemberRequest__Output, _kvcache_v1_AddMemberResponse__Output>
  DropNamespace: MethodDefinition<_kvcache_v1_DropNamespaceRequest, _kvcache_v1_DropNamespaceResponse, _kvcache_v1_DropNamespaceRequest__Output, _kvcache_v1_DropNamespaceResponse__Output>
  GetConfig: MethodDefinition<_kvcache_v1_GetConfigRequest, _kvcache_v1_GetConfigResponse, _kvcache_v1_GetConfigRequest__Output, _kvcache_v1_GetConfigResponse__Output>
  ListNamespaces: MethodDefinition<_kvcache_v1_ListNamespacesRequest, _kvcache_v1_ListNamespacesResponse, _kvcache_v1_ListNamespacesRequest__Output, _kvcache_v1_ListNamespacesResponse__Output>
  ListRemovals: MethodDefinition<_kvcache_v1_ListRemovalsRequest, _kvcache_v1_ListRemovalsResponse, _kvcache_v1_ListRemovalsRequest__Output, _kvcache_v1_ListRemovalsResponse__Output>
  Profile: MethodDefinition<_kvcache_v1_ProfileRequest, _kvcache_v1_ProfileChunk, _kvcache_v1_ProfileRequest__Output, _kvcache_v1_ProfileChunk__Output>
  RemoveMember: MethodDefinition<_kvcache_v1_RemoveMemberRequest, _kvcache_v1_RemoveMemberResponse, _kvcache_v1_RemoveMemberRequest__Output, _kvcache_v1_RemoveMemberResponse__Output>
  SetConfig: MethodDefinition<_kvcache_v1_SetConfigRequest, _kvcache_v1_SetConfigResponse, _kvcache_v1_SetConfigRequest__Output, _kvcache_v1_SetConfigResponse__Output>
  SetNamespaceConfig: MethodDefinition<_kvcache_v1_SetNamespaceConfigRequest, _kvcache_v1_SetNamespaceConfigResponse, _kvcache_v1_SetNamespaceConfigRequest__Output, _kvcache_v1_SetNamespaceConfigResponse__Output>
  Snapshot: MethodDefinition<_kvcache_v1_SnapshotRequest, _kvcache_v1_SnapshotResponse, _kvcache_v1_SnapshotRequest__Output, _kvcache_v1_SnapshotResponse__Output>
  Status: MethodDefinition<_kvcache_v1_StatusRequest, _kvcache_v1_StatusResponse, _kvcache_v1_StatusRequest__Output, _kvcache_v1_StatusResponse__Output>
  TransferLeader: MethodDefinition<_kvcache_v1_TransferLeaderRequest, _kvcache_v1_TransferLeaderResponse, _kvcache_v1_TransferLeaderRequest__Output, _kvcache_v1_TransferLeaderResponse__Output>
}
