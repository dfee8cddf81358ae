// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface SnapshotResponse {
  /**
   * WAL first index after compaction.
   */
  'walFirstIndex'?: (number | string | Long);
}

export interface SnapshotResponse__Output {
  /**
   * WAL first index after compaction.
   */
  'walFirstIndex': (number);
}
