// Original file: proto/kvcache/v1/admin.proto

import type { Removal as _kvcache_v1_Removal, Removal__Output as _kvcache_v1_Removal__Output } from '../../kvcache/v1/Removal.js';
import type { Long } from '@grpc/proto-loader';

export interface ListRemovalsResponse {
  'removals'?: (_kvcache_v1_Removal)[];
  /**
   * The oldest index the record still holds (older removals were trimmed); 0 when empty.
   */
  'oldestIndex'?: (number | string | Long);
  'appliedIndex'?: (number | string | Long);
  /**
   * True when more entries follow the last one returned.
   */
  'more'?: (boolean);
}

export interface ListRemovalsResponse__Output {
  'removals': (_kvcache_v1_Removal__Output)[];
  /**
   * The oldest index the record still holds (older removals were trimmed); 0 when empty.
   */
  'oldestIndex': (number);
  'appliedIndex': (number);
  /**
   * True when more entries follow the last one returned.
   */
  'more': (boolean);
}
