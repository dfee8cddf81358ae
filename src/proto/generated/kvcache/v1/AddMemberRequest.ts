// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface AddMemberRequest {
  'id'?: (number | string | Long);
  'address'?: (string);
  /**
   * Add as a learner (non-voting; promote later with learner = false once caught up).
   */
  'learner'?: (boolean);
}

export interface AddMemberRequest__Output {
  'id': (number);
  'address': (string);
  /**
   * Add as a learner (non-voting; promote later with learner = false once caught up).
   */
  'learner': (boolean);
}
