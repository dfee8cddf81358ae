// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface RemoveMemberRequest {
  'id'?: (number | string | Long);
}

export interface RemoveMemberRequest__Output {
  'id': (number);
}
