import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { CacheServiceClient as _kvcache_v1_CacheServiceClient, CacheServiceDefinition as _kvcache_v1_CacheServiceDefinition } from './kvcache/v1/CacheService.js';
import type { DeletePagesRequest as _kvcache_v1_DeletePagesRequest, DeletePagesRequest__Output as _kvcache_v1_DeletePagesRequest__Output } from './kvcache/v1/DeletePagesRequest.js';
import type { DeletePagesResponse as _kvcache_v1_DeletePagesResponse, DeletePagesResponse__Output as _kvcache_v1_DeletePagesResponse__Output } from './kvcache/v1/DeletePagesResponse.js';
import type { GetPagesRequest as _kvcache_v1_GetPagesRequest, GetPagesRequest__Output as _kvcache_v1_GetPagesRequest__Output } from './kvcache/v1/GetPagesRequest.js';
import type { GetPagesResponse as _kvcache_v1_GetPagesResponse, GetPagesResponse__Output as _kvcache_v1_GetPagesResponse__Output } from './kvcache/v1/GetPagesResponse.js';
import type { KeyList as _kvcache_v1_KeyList, KeyList__Output as _kvcache_v1_KeyList__Output } from './kvcache/v1/KeyList.js';
import type { ListPagesRequest as _kvcache_v1_ListPagesRequest, ListPagesRequest__Output as _kvcache_v1_ListPagesRequest__Output } from './kvcache/v1/ListPagesRequest.js';
import type { ListPagesResponse as _kvcache_v1_ListPagesResponse, ListPagesResponse__Output as _kvcache_v1_ListPagesResponse__Output } from './kvcache/v1/ListPagesResponse.js';
import type { ListedPage as _kvcache_v1_ListedPage, ListedPage__Output as _kvcache_v1_ListedPage__Output } from './kvcache/v1/ListedPage.js';
import type { LookupRequest as _kvcache_v1_LookupRequest, LookupRequest__Output as _kvcache_v1_LookupRequest__Output } from './kvcache/v1/LookupRequest.js';
import type { LookupResponse as _kvcache_v1_LookupResponse, LookupResponse__Output as _kvcache_v1_LookupResponse__Output } from './kvcache/v1/LookupResponse.js';
import type { PageMeta as _kvcache_v1_PageMeta, PageMeta__Output as _kvcache_v1_PageMeta__Output } from './kvcache/v1/PageMeta.js';
import type { PinPagesRequest as _kvcache_v1_PinPagesRequest, PinPagesRequest__Output as _kvcache_v1_PinPagesRequest__Output } from './kvcache/v1/PinPagesRequest.js';
import type { PinPagesResponse as _kvcache_v1_PinPagesResponse, PinPagesResponse__Output as _kvcache_v1_PinPagesResponse__Output } from './kvcache/v1/PinPagesResponse.js';
import type { PutPagesRequest as _kvcache_v1_PutPagesRequest, PutPagesRequest__Output as _kvcache_v1_PutPagesRequest__Output } from './kvcache/v1/PutPagesRequest.js';
import type { PutPagesResponse as _kvcache_v1_PutPagesResponse, PutPagesResponse__Output as _kvcache_v1_PutPagesResponse__Output } from './kvcache/v1/PutPagesResponse.js';
import type { PutResult as _kvcache_v1_PutResult, PutResult__Output as _kvcache_v1_PutResult__Output } from './kvcache/v1/PutResult.js';
import type { ReleasePagesRequest as _kvcache_v1_ReleasePagesRequest, ReleasePagesRequest__Output as _kvcache_v1_ReleasePagesRequest__Output } from './kvcache/v1/ReleasePagesRequest.js';
import type { ReleasePagesResponse as _kvcache_v1_ReleasePagesResponse, ReleasePagesResponse__Output as _kvcache_v1_ReleasePagesResponse__Output } from './kvcache/v1/ReleasePagesResponse.js';
import type { SharedPage as _kvcache_v1_SharedPage, SharedPage__Output as _kvcache_v1_SharedPage__Output } from './kvcache/v1/SharedPage.js';
import type { UnpinPagesRequest as _kvcache_v1_UnpinPagesRequest, UnpinPagesRequest__Output as _kvcache_v1_UnpinPagesRequest__Output } from './kvcache/v1/UnpinPagesRequest.js';
import type { UnpinPagesResponse as _kvcache_v1_UnpinPagesResponse, UnpinPagesResponse__Output as _kvcache_v1_UnpinPagesResponse__Output } from './kvcache/v1/UnpinPagesResponse.js';
import type { WatchEvent as _kvcache_v1_WatchEvent, WatchEvent__Output as _kvcache_v1_WatchEvent__Output } from './kvcache/v1/WatchEvent.js';
import type { WatchRequest as _kvcache_v1_WatchRequest, WatchRequest__Output as _kvcache_v1_WatchRequest__Output } from './kvcache/v1/WatchRequest.js';
import type { WatchResponse as _kvcache_v1_WatchResponse, WatchResponse__Output as _kvcache_v1_WatchResponse__Output } from './kvcache/v1/WatchResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  kvcache: {
    v1: {
      CacheService: SubtypeConstructor<typeof grpc.Client, _kvcache_v1_CacheServiceClient> & { service: _kvcache_v1_CacheServiceDefinition }
      DeletePagesRequest: MessageTypeDefinition<_kvcache_v1_DeletePagesRequest, _kvcache_v1_DeletePagesRequest__Output>
      DeletePagesResponse: MessageTypeDefinition<_kvcache_v1_DeletePagesResponse, _kvcache_v1_DeletePagesResponse__Output>
      Dtype: EnumTypeDefinition
      GetPagesRequest: MessageTypeDefinition<_kvcache_v1_GetPagesRequest, _kvcache_v1_GetPagesRequest__Output>
      GetPagesResponse: MessageTypeDefinition<_kvcache_v1_GetPagesResponse, _kvcache_v1_GetPagesResponse__Output>
      KeyList: MessageTypeDefinition<_kvcache_v1_KeyList, _kvcache_v1_KeyList__Output>
      ListPagesRequest: MessageTypeDefinition<_kvcache_v1_ListPagesRequest, _kvcache_v1_ListPagesRequest__Output>
      ListPagesResponse: MessageTypeDefinition<_kvcache_v1_ListPagesResponse, _kvcache_v1_ListPagesResponse__Output>
      ListedPage: MessageTypeDefinition<_kvcache_v1_ListedPage, _kvcache_v1_ListedPage__Output>
      LookupRequest: MessageTypeDefinition<_kvcache_v1_LookupRequest, _kvcache_v1_LookupRequest__Output>
      LookupResponse: MessageTypeDefinition<_kvcache_v1_LookupResponse, _kvcache_v1_LookupResponse__Output>
      PageMeta: MessageTypeDefinition<_kvcache_v1_PageMeta, _kvcache_v1_PageMeta__Output>
      PinPagesRequest: MessageTypeDefinition<_kvcache_v1_PinPagesRequest, _kvcache_v1_PinPagesRequest__Output>
      PinPagesResponse: MessageTypeDefinition<_kvcache_v1_PinPagesResponse, _kvcache_v1_PinPagesResponse__Output>
      PutPagesRequest: MessageTypeDefinition<_kvcache_v1_PutPagesRequest, _kvcache_v1_PutPagesRequest__Output>
      PutPagesResponse: MessageTypeDefinition<_kvcache_v1_PutPagesResponse, _kvcache_v1_PutPagesResponse__Output>
      PutResult: MessageTypeDefinition<_kvcache_v1_PutResult, _kvcache_v1_PutResult__Output>
      ReleasePagesRequest: MessageTypeDefinition<_kvcache_v1_ReleasePagesRequest, _kvcache_v1_ReleasePagesRequest__Output>
      ReleasePagesResponse: MessageTypeDefinition<_kvcache_v1_ReleasePagesResponse, _kvcache_v1_ReleasePagesResponse__Output>
      RemovalReason: EnumTypeDefinition
      SharedPage: MessageTypeDefinition<_kvcache_v1_SharedPage, _kvcache_v1_SharedPage__Output>
      Transfer: EnumTypeDefinition
      UnpinPagesRequest: MessageTypeDefinition<_kvcache_v1_UnpinPagesRequest, _kvcache_v1_UnpinPagesRequest__Output>
      UnpinPagesResponse: MessageTypeDefinition<_kvcache_v1_UnpinPagesResponse, _kvcache_v1_UnpinPagesResponse__Output>
      WatchEvent: MessageTypeDefinition<_kvcache_v1_WatchEvent, _kvcache_v1_WatchEvent__Output>
      WatchEventType: EnumTypeDefinition
      WatchRequest: MessageTypeDefinition<_kvcache_v1_WatchRequest, _kvcache_v1_WatchRequest__Output>
      WatchResponse: MessageTypeDefinition<_kvcache_v1_WatchResponse, _kvcache_v1_WatchResponse__Output>
    }
  }
}

