// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferLeaderRequest {
  'targetId'?: (number | string | Long);
}

export interface TransferLeaderRequest__Output {
  'targetId': (number);
}
