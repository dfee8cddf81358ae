// Original file: proto/kvcache/v1/cache.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DeletePagesRequest as _kvcache_v1_DeletePagesRequest, DeletePagesRequest__Output as _kvcache_v1_DeletePagesRequest__Output } from '../../kvcache/v1/DeletePagesRequest.js';
import type { DeletePagesResponse as _kvcache_v1_DeletePagesResponse, DeletePagesResponse__Output as _kvcache_v1_DeletePagesResponse__Output } from '../../kvcache/v1/DeletePagesResponse.js';
import type { GetPagesRequest as _kvcache_v1_GetPagesRequest, GetPagesRequest__Output as _kvcache_v1_GetPagesRequest__Output } from '../../kvcache/v1/GetPagesRequest.js';
import type { GetPagesResponse as _kvcache_v1_GetPagesResponse, GetPagesResponse__Output as _kvcache_v1_GetPagesResponse__Output } from '../../kvcache/v1/GetPagesResponse.js';
import type { ListPagesRequest as _kvcache_v1_ListPagesRequest, ListPagesRequest__Output as _kvcache_v1_ListPagesRequest__Output } from '../../kvcache/v1/ListPagesRequest.js';
import type { ListPagesResponse as _kvcache_v1_ListPagesResponse, ListPagesResponse__Output as _kvcache_v1_ListPagesResponse__Output } from '../../kvcache/v1/ListPagesResponse.js';
import type { LookupRequest as _kvcache_v1_LookupRequest, LookupRequest__Output as _kvcache_v1_LookupRequest__Output } from '../../kvcache/v1/LookupRequest.js';
import type { LookupResponse as _kvcache_v1_LookupResponse, LookupResponse__Output as _kvcache_v1_LookupResponse__Output } from '../../kvcache/v1/LookupResponse.js';
import type { PinPagesRequest as _kvcache_v1_PinPagesRequest, PinPagesRequest__Output as _kvcache_v1_PinPagesRequest__Output } from '../../kvcache/v1/PinPagesRequest.js';
import type { PinPagesResponse as _kvcache_v1_PinPagesResponse, PinPagesResponse__Output as _kvcache_v1_PinPagesResponse__Output } from '../../kvcache/v1/PinPagesResponse.js';
import type { PutPagesRequest as _kvcache_v1_PutPagesRequest, PutPagesRequest__Output as _kvcache_v1_PutPagesRequest__Output } from '../../kvcache/v1/PutPagesRequest.js';
import type { PutPagesResponse as _kvcache_v1_PutPagesResponse, PutPagesResponse__Output as _kvcache_v1_PutPagesResponse__Output } from '../../kvcache/v1/PutPagesResponse.js';
import type { ReleasePagesRequest as _kvcache_v1_ReleasePagesRequest, ReleasePagesRequest__Output as _kvcache_v1_ReleasePagesRequest__Output } from '../../kvcache/v1/ReleasePagesRequest.js';
import type { ReleasePagesResponse as _kvcache_v1_ReleasePagesResponse, ReleasePagesResponse__Output as _kvcache_v1_ReleasePagesResponse__Output } from '../../kvcache/v1/ReleasePagesResponse.js';
import type { UnpinPagesRequest as _kvcache_v1_UnpinPagesRequest, UnpinPagesRequest__Output as _kvcache_v1_UnpinPagesRequest__Output } from '../../kvcache/v1/UnpinPagesRequest.js';
import type { UnpinPagesResponse as _kvcache_v1_UnpinPagesResponse, UnpinPagesResponse__Output as _kvcache_v1_UnpinPagesResponse__Output } from '../../kvcache/v1/UnpinPagesResponse.js';
import type { WatchRequest as _kvcache_v1_WatchRequest, WatchRequest__Output as _kvcache_v1_WatchRequest__Output } from '../../kvcache/v1/WatchRequest.js';
import type { WatchResponse as _kvcache_v1_WatchResponse, WatchResponse__Output as _kvcache_v1_WatchResponse__Output } from '../../kvcache/v1/WatchResponse.js';

export interface CacheServiceClient extends grpc.Client {
  DeletePages(argument: _kvcache_v1_DeletePagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  DeletePages(argument: _kvcache_v1_DeletePagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  DeletePages(argument: _kvcache_v1_DeletePagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  DeletePages(argument: _kvcache_v1_DeletePagesRequest, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  deletePages(argument: _kvcache_v1_DeletePagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  deletePages(argument: _kvcache_v1_DeletePagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  deletePages(argument: _kvcache_v1_DeletePagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  deletePages(argument: _kvcache_v1_DeletePagesRequest, callback: grpc.requestCallback<_kvcache_v1_DeletePagesResponse__Output>): grpc.ClientUnaryCall;
  
  GetPages(argument: _kvcache_v1_GetPagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_GetPagesResponse__Output>;
  GetPages(argument: _kvcache_v1_GetPagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_GetPagesResponse__Output>;
  getPages(argument: _kvcache_v1_GetPagesRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_GetPagesResponse__Output>;
  getPages(argument: _kvcache_v1_GetPagesRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_GetPagesResponse__Output>;
  
  /**
   * The current page set, paged, with the applied index each answer was taken at.
   */
  ListPages(argument: _kvcache_v1_ListPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  ListPages(argument: _kvcache_v1_ListPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  ListPages(argument: _kvcache_v1_ListPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  ListPages(argument: _kvcache_v1_ListPagesRequest, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The current page set, paged, with the applied index each answer was taken at.
   */
  listPages(argument: _kvcache_v1_ListPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  listPages(argument: _kvcache_v1_ListPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  listPages(argument: _kvcache_v1_ListPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  listPages(argument: _kvcache_v1_ListPagesRequest, callback: grpc.requestCallback<_kvcache_v1_ListPagesResponse__Output>): grpc.ClientUnaryCall;
  
  Lookup(argument: _kvcache_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvcache_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvcache_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  Lookup(argument: _kvcache_v1_LookupRequest, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvcache_v1_LookupRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvcache_v1_LookupRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvcache_v1_LookupRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  lookup(argument: _kvcache_v1_LookupRequest, callback: grpc.requestCallback<_kvcache_v1_LookupResponse__Output>): grpc.ClientUnaryCall;
  
  PinPages(argument: _kvcache_v1_PinPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  PinPages(argument: _kvcache_v1_PinPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  PinPages(argument: _kvcache_v1_PinPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  PinPages(argument: _kvcache_v1_PinPagesRequest, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  pinPages(argument: _kvcache_v1_PinPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  pinPages(argument: _kvcache_v1_PinPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  pinPages(argument: _kvcache_v1_PinPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  pinPages(argument: _kvcache_v1_PinPagesRequest, callback: grpc.requestCallback<_kvcache_v1_PinPagesResponse__Output>): grpc.ClientUnaryCall;
  
  PutPages(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  PutPages(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  PutPages(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  PutPages(callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  putPages(metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  putPages(metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  putPages(options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  putPages(callback: grpc.requestCallback<_kvcache_v1_PutPagesResponse__Output>): grpc.ClientWritableStream<_kvcache_v1_PutPagesRequest>;
  
  /**
   * Ends shared-memory leases of GetPages (TRANSFER_SHARED_MEMORY).
   */
  ReleasePages(argument: _kvcache_v1_ReleasePagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  ReleasePages(argument: _kvcache_v1_ReleasePagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  ReleasePages(argument: _kvcache_v1_ReleasePagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  ReleasePages(argument: _kvcache_v1_ReleasePagesRequest, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Ends shared-memory leases of GetPages (TRANSFER_SHARED_MEMORY).
   */
  releasePages(argument: _kvcache_v1_ReleasePagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  releasePages(argument: _kvcache_v1_ReleasePagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  releasePages(argument: _kvcache_v1_ReleasePagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  releasePages(argument: _kvcache_v1_ReleasePagesRequest, callback: grpc.requestCallback<_kvcache_v1_ReleasePagesResponse__Output>): grpc.ClientUnaryCall;
  
  UnpinPages(argument: _kvcache_v1_UnpinPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  UnpinPages(argument: _kvcache_v1_UnpinPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  UnpinPages(argument: _kvcache_v1_UnpinPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  UnpinPages(argument: _kvcache_v1_UnpinPagesRequest, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  unpinPages(argument: _kvcache_v1_UnpinPagesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  unpinPages(argument: _kvcache_v1_UnpinPagesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  unpinPages(argument: _kvcache_v1_UnpinPagesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  unpinPages(argument: _kvcache_v1_UnpinPagesRequest, callback: grpc.requestCallback<_kvcache_v1_UnpinPagesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Page-set changes in log order from from_index on, served by any member from its applied
   * state (a follower's feed lags its applied index behind the leader's commit index).
   */
  Watch(argument: _kvcache_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_WatchResponse__Output>;
  Watch(argument: _kvcache_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_WatchResponse__Output>;
  /**
   * Page-set changes in log order from from_index on, served by any member from its applied
   * state (a follower's feed lags its applied index behind the leader's commit index).
   */
  watch(argument: _kvcache_v1_WatchRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_WatchResponse__Output>;
  watch(argument: _kvcache_v1_WatchRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_kvcache_v1_WatchResponse__Output>;
  
}

export interface CacheServiceHandlers extends grpc.UntypedServiceImplementation {
  DeletePages: grpc.handleUnaryCall<_kvcache_v1_DeletePagesRequest__Output, _kvcache_v1_DeletePagesResponse>;
  
  GetPages: grpc.handleServerStreamingCall<_kvcache_v1_GetPagesRequest__Output, _kvcache_v1_GetPagesResponse>;
  
  /**
   * The current page set, paged, with the applied index each answer was taken at.
   */
  ListPages: grpc.handleUnaryCall<_kvcache_v1_ListPagesRequest__Output, _kvcache_v1_ListPagesResponse>;
  
  Lookup: grpc.handleUnaryCall<_kvcache_v1_LookupRequest__Output, _kvcache_v1_LookupResponse>;
  
  PinPages: grpc.handleUnaryCall<_kvcache_v1_PinPagesRequest__Output, _kvcache_v1_PinPagesResponse>;
  
  PutPages: grpc.handleClientStreamingCall<_kvcache_v1_PutPagesRequest__Output, _kvcache_v1_PutPagesResponse>;
  
  /**
   * Ends shared-memory leases of GetPages (TRANSFER_SHARED_MEMORY).
   */
  ReleasePages: grpc.handleUnaryCall<_kvcache_v1_ReleasePagesRequest__Output, _kvcache_v1_ReleasePagesResponse>;
  
  UnpinPages: grpc.handleUnaryCall<_kvcache_v1_UnpinPagesRequest__Output, _kvcache_v1_UnpinPagesResponse>;
  
  /**
   * Page-set changes in log order from from_index on, served by any member from its applied
   * state (a follower's feed lags its applied index behind the leader's commit index).
   */
  Watch: grpc.handleServerStreamingCall<_kvcache_v1_WatchRequest__Output, _kvcache_v1_WatchResponse>;
  
}

export interface CacheServiceDefinition extends grpc.ServiceDefinition {
  DeletePages: MethodDefinition<_kvcache_v1_DeletePagesRequest, _kvcache_v1_DeletePagesResponse, _kvcache_v1_DeletePagesRequest__Output, _kvcache_v1_DeletePagesResponse__Output>
  GetPages: MethodDefinition<_kvcache_v1_GetPagesRequest, _kvcache_v1_GetPagesResponse, _kvcache_v1_GetPagesRequest__Output, _kvcache_v1_GetPagesResponse__Output>
  ListPages: MethodDefinition<_kvcache_v1_ListPagesRequest, _kvcache_v1_ListPagesResponse, _kvcache_v1_ListPagesRequest__Output, _kvcache_v1_ListPagesResponse__Output>
  Lookup: MethodDefinition<_kvcache_v1_LookupRequest, _kvcache_v1_LookupResponse, _kvcache_v1_LookupRequest__Output, _kvcache_v1_LookupResponse__Output>
  PinPages: MethodDefinition<_kvcache_v1_PinPagesRequest, _kvcache_v1_PinPagesResponse, _kvcache_v1_PinPagesRequest__Output, _kvcache_v1_PinPagesResponse__Output>
  PutPages: MethodDefinition<_kvcache_v1_PutPagesRequest, _kvcache_v1_PutPagesResponse, _kvcache_v1_PutPagesRequest__Output, _kvcache_v1_PutPagesResponse__Output>
  ReleasePages: MethodDefinition<_kvcache_v1_ReleasePagesRequest, _kvcache_v1_ReleasePagesResponse, _kvcache_v1_ReleasePagesRequest__Output, _kvcache_v1_ReleasePagesResponse__Output>
  UnpinPages: MethodDefinition<_kvcache_v1_UnpinPagesRequest, _kvcache_v1_UnpinPagesResponse, _kvcache_v1_UnpinPagesRequest__Output, _kvcache_v1_UnpinPagesResponse__Output>
  Watch: MethodDefinition<_kvcache_v1_WatchRequest, _kvcache_v1_WatchResponse, _kvcache_v1_WatchRequest__Output, _kvcache_v1_WatchResponse__Output>
}
