// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface TransferLeaderResponse {
  'leaderId'?: (number | string | Long);
}

export interface TransferLeaderResponse__Output {
  'leaderId': (number);
}
