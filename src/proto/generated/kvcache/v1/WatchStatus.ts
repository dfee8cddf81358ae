// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface WatchStatus {
  /**
   * The oldest from_index a Watch may ask for; older is KVC_WATCH_COMPACTED. After a restart or
   * a snapshot install it is the applied index the member had then + 1.
   */
  'oldestIndex'?: (number | string | Long);
  /**
   * Events and their estimated bytes in the member's ring (bounded by LIMITS.watch).
   */
  'events'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  /**
   * Watch streams open on this member.
   */
  'watchers'?: (number);
}

export interface WatchStatus__Output {
  /**
   * The oldest from_index a Watch may ask for; older is KVC_WATCH_COMPACTED. After a restart or
   * a snapshot install it is the applied index the member had then + 1.
   */
  'oldestIndex': (number);
  /**
   * Events and their estimated bytes in the member's ring (bounded by LIMITS.watch).
   */
  'events': (number);
  'bytes': (number);
  /**
   * Watch streams open on this member.
   */
  'watchers': (number);
}
