// Original file: proto/kvcache/v1/cache.proto

import type { PutResult as _kvcache_v1_PutResult, PutResult__Output as _kvcache_v1_PutResult__Output } from '../../kvcache/v1/PutResult.js';

/**
 * Sent once every page of the stream is committed by a majority and applied on the leader.
 */
export interface PutPagesResponse {
  'results'?: (_kvcache_v1_PutResult)[];
}

/**
 * Sent once every page of the stream is committed by a majority and applied on the leader.
 */
export interface PutPagesResponse__Output {
  'results': (_kvcache_v1_PutResult__Output)[];
}
