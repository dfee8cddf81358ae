// Original file: proto/kvcache/v1/admin.proto

import type { ClusterSettings as _kvcache_v1_ClusterSettings, ClusterSettings__Output as _kvcache_v1_ClusterSettings__Output } from '../../kvcache/v1/ClusterSettings.js';

export interface GetConfigResponse {
  /**
   * The member's effective configuration and limits, as JSON.
   */
  'json'?: (string);
  /**
   * The replicated capacity settings this member enforces.
   */
  'settings'?: (_kvcache_v1_ClusterSettings | null);
}

export interface GetConfigResponse__Output {
  /**
   * The member's effective configuration and limits, as JSON.
   */
  'json': (string);
  /**
   * The replicated capacity settings this member enforces.
   */
  'settings': (_kvcache_v1_ClusterSettings__Output | null);
}
