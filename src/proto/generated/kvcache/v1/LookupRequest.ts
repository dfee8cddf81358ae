// Original file: proto/kvcache/v1/cache.proto

import type { KeyList as _kvcache_v1_KeyList, KeyList__Output as _kvcache_v1_KeyList__Output } from '../../kvcache/v1/KeyList.js';
import type { Long } from '@grpc/proto-loader';

export interface LookupRequest {
  'namespace'?: (string);
  /**
   * Chained keys k0..kn of one prompt, at most 8192 (KVC_TOO_MANY_KEYS).
   */
  'keys'?: (Buffer | Uint8Array | string)[];
  /**
   * Serve from a ReadIndex-confirmed state (one leader round trip) instead of local state.
   */
  'linearizable'?: (boolean);
  /**
   * Protect the matched prefix from eviction for this many ms (at most 60,000; more is
   * KVC_INVALID_ARGUMENT), without a log write, so a lookup followed by GetPages is not cut by an
   * eviction in between. 0 = no lease. A follower forwards the lease to the leader at once.
   */
  'leaseMs'?: (number | string | Long);
  /**
   * More prompts of the same namespace, each looked up on its own as if sent alone with the same
   * linearizable and lease_ms: the client sends the lookups of its concurrent callers in one call.
   * `keys` and every prompt's keys count together against the 8192 (KVC_TOO_MANY_KEYS).
   */
  'morePrompts'?: (_kvcache_v1_KeyList)[];
}

export interface LookupRequest__Output {
  'namespace': (string);
  /**
   * Chained keys k0..kn of one prompt, at most 8192 (KVC_TOO_MANY_KEYS).
   */
  'keys': (Buffer)[];
  /**
   * Serve from a ReadIndex-confirmed state (one leader round trip) instead of local state.
   */
  'linearizable': (boolean);
  /**
   * Protect the matched prefix from eviction for this many ms (at most 60,000; more is
   * KVC_INVALID_ARGUMENT), without a log write, so a lookup followed by GetPages is not cut by an
   * eviction in between. 0 = no lease. A follower forwards the lease to the leader at once.
   */
  'leaseMs': (number);
  /**
   * More prompts of the same namespace, each looked up on its own as if sent alone with the same
   * linearizable and lease_ms: the client sends the lookups of its concurrent callers in one call.
   * `keys` and every prompt's keys count together against the 8192 (KVC_TOO_MANY_KEYS).
   */
  'morePrompts': (_kvcache_v1_KeyList__Output)[];
}
