// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface LookupResponse {
  /**
   * How many leading keys are present: the longest cached prefix, in pages.
   */
  'matched'?: (number);
  /**
   * The member's applied index when it answered.
   */
  'appliedIndex'?: (number | string | Long);
  /**
   * For each of the request's more_prompts, in order, its longest cached prefix. A member that
   * predates more_prompts leaves it empty (the client then asks for those prompts one by one).
   */
  'moreMatched'?: (number)[];
}

export interface LookupResponse__Output {
  /**
   * How many leading keys are present: the longest cached prefix, in pages.
   */
  'matched': (number);
  /**
   * The member's applied index when it answered.
   */
  'appliedIndex': (number);
  /**
   * For each of the request's more_prompts, in order, its longest cached prefix. A member that
   * predates more_prompts leaves it empty (the client then asks for those prompts one by one).
   */
  'moreMatched': (number)[];
}
