// Original file: proto/kvcache/v1/cache.proto

import type { ListedPage as _kvcache_v1_ListedPage, ListedPage__Output as _kvcache_v1_ListedPage__Output } from '../../kvcache/v1/ListedPage.js';
import type { Long } from '@grpc/proto-loader';

/**
 * Pages in (namespace, key) byte order. Each answer is the member's state at `applied_index`;
 * the answers of one listing may be taken at different indexes, so a client applies the Watch
 * events from `watch_from_index` (the first answer's applied_index + 1) on top of the union of
 * the answers, in order: stored adds or replaces, removed and namespace_dropped remove. That
 * rebuilds the page set exactly (every change after the first answer is replayed, and a page no
 * event touched is the same in every answer).
 */
export interface ListPagesResponse {
  'pages'?: (_kvcache_v1_ListedPage)[];
  'appliedIndex'?: (number | string | Long);
  /**
   * Empty on the last answer.
   */
  'nextPageToken'?: (string);
  'watchFromIndex'?: (number | string | Long);
}

/**
 * Pages in (namespace, key) byte order. Each answer is the member's state at `applied_index`;
 * the answers of one listing may be taken at different indexes, so a client applies the Watch
 * events from `watch_from_index` (the first answer's applied_index + 1) on top of the union of
 * the answers, in order: stored adds or replaces, removed and namespace_dropped remove. That
 * rebuilds the page set exactly (every change after the first answer is replayed, and a page no
 * event touched is the same in every answer).
 */
export interface ListPagesResponse__Output {
  'pages': (_kvcache_v1_ListedPage__Output)[];
  'appliedIndex': (number);
  /**
   * Empty on the last answer.
   */
  'nextPageToken': (string);
  'watchFromIndex': (number);
}
