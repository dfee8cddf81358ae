// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One namespace as this member sees it.
 */
export interface NamespaceStatus {
  'namespace'?: (string);
  'pages'?: (number | string | Long);
  'bytes'?: (number | string | Long);
  /**
   * Replicated byte quota; 0 = none (only the cluster budget applies).
   */
  'quotaBytes'?: (number | string | Long);
  /**
   * Replicated default TTL of the namespace's pages; 0 = the cluster's default.
   */
  'defaultTtlMs'?: (number | string | Long);
  /**
   * Replicated counters since the store was created.
   */
  'evictedPages'?: (number | string | Long);
  'evictedBytes'?: (number | string | Long);
  'expiredPages'?: (number | string | Long);
  /**
   * This member's own Lookup counters since it started: keys asked and keys matched.
   */
  'lookupKeys'?: (number | string | Long);
  'lookupHits'?: (number | string | Long);
}

/**
 * One namespace as this member sees it.
 */
export interface NamespaceStatus__Output {
  'namespace': (string);
  'pages': (number);
  'bytes': (number);
  /**
   * Replicated byte quota; 0 = none (only the cluster budget applies).
   */
  'quotaBytes': (number);
  /**
   * Replicated default TTL of the namespace's pages; 0 = the cluster's default.
   */
  'defaultTtlMs': (number);
  /**
   * Replicated counters since the store was created.
   */
  'evictedPages': (number);
  'evictedBytes': (number);
  'expiredPages': (number);
  /**
   * This member's own Lookup counters since it started: keys asked and keys matched.
   */
  'lookupKeys': (number);
  'lookupHits': (number);
}
