// Original file: proto/kvcache/v1/admin.proto

import type { NamespaceStatus as _kvcache_v1_NamespaceStatus, NamespaceStatus__Output as _kvcache_v1_NamespaceStatus__Output } from '../../kvcache/v1/NamespaceStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface ListNamespacesResponse {
  'namespaces'?: (_kvcache_v1_NamespaceStatus)[];
  'appliedIndex'?: (number | string | Long);
}

export interface ListNamespacesResponse__Output {
  'namespaces': (_kvcache_v1_NamespaceStatus__Output)[];
  'appliedIndex': (number);
}
