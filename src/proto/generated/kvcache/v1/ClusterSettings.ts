// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * Capacity settings: replicated state, the same on every member that applied the same log. Set
 * from the first leader's config file at bootstrap, changed with SetConfig.
 */
export interface ClusterSettings {
  /**
   * Most payload bytes the cluster stores (every member holds every page).
   */
  'budgetBytes'?: (number | string | Long);
  /**
   * Fractions of the budget: past `high_watermark` the leader proposes evictions down to
   * `low_watermark`. 0 < low < high <= 1.
   */
  'highWatermark'?: (number | string);
  'lowWatermark'?: (number | string);
  /**
   * A page looked up or read within this many ms is never evicted.
   */
  'evictionGraceMs'?: (number | string | Long);
  /**
   * TTL of pages put without one (0 = none), unless their namespace sets its own; counted from
   * each page's creation, so a change applies to pages already stored too.
   */
  'defaultTtlMs'?: (number | string | Long);
  /**
   * False until the first leader replicated its config (the built-in defaults apply meanwhile).
   */
  'replicated'?: (boolean);
}

/**
 * Capacity settings: replicated state, the same on every member that applied the same log. Set
 * from the first leader's config file at bootstrap, changed with SetConfig.
 */
export interface ClusterSettings__Output {
  /**
   * Most payload bytes the cluster stores (every member holds every page).
   */
  'budgetBytes': (number);
  /**
   * Fractions of the budget: past `high_watermark` the leader proposes evictions down to
   * `low_watermark`. 0 < low < high <= 1.
   */
  'highWatermark': (number);
  'lowWatermark': (number);
  /**
   * A page looked up or read within this many ms is never evicted.
   */
  'evictionGraceMs': (number);
  /**
   * TTL of pages put without one (0 = none), unless their namespace sets its own; counted from
   * each page's creation, so a change applies to pages already stored too.
   */
  'defaultTtlMs': (number);
  /**
   * False until the first leader replicated its config (the built-in defaults apply meanwhile).
   */
  'replicated': (boolean);
}
