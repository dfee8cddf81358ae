// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The replicated record of removed pages (evicted, expired, deleted, dropped namespaces), oldest
 * first, bounded in entries (LIMITS.eviction.removalRecordEntries): what the chaos checker reads
 * to tell an evicted page from a lost one. Any member answers from its applied state.
 */
export interface ListRemovalsRequest {
  /**
   * First log index to return (0 = the oldest kept).
   */
  'fromIndex'?: (number | string | Long);
  /**
   * Most entries to return (0 or above 10,000 = 10,000).
   */
  'limit'?: (number);
}

/**
 * The replicated record of removed pages (evicted, expired, deleted, dropped namespaces), oldest
 * first, bounded in entries (LIMITS.eviction.removalRecordEntries): what the chaos checker reads
 * to tell an evicted page from a lost one. Any member answers from its applied state.
 */
export interface ListRemovalsRequest__Output {
  /**
   * First log index to return (0 = the oldest kept).
   */
  'fromIndex': (number);
  /**
   * Most entries to return (0 or above 10,000 = 10,000).
   */
  'limit': (number);
}
