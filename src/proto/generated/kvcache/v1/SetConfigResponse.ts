// Original file: proto/kvcache/v1/admin.proto

import type { ClusterSettings as _kvcache_v1_ClusterSettings, ClusterSettings__Output as _kvcache_v1_ClusterSettings__Output } from '../../kvcache/v1/ClusterSettings.js';

export interface SetConfigResponse {
  /**
   * The settings once the change is applied on the leader.
   */
  'settings'?: (_kvcache_v1_ClusterSettings | null);
}

export interface SetConfigResponse__Output {
  /**
   * The settings once the change is applied on the leader.
   */
  'settings': (_kvcache_v1_ClusterSettings__Output | null);
}
