// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface Member {
  'id'?: (number | string | Long);
  /**
   * host:port of the member's gRPC server (clients and peers).
   */
  'address'?: (string);
  'learner'?: (boolean);
  /**
   * Leader only: highest log index known replicated on this member.
   */
  'matchIndex'?: (number | string | Long);
}

export interface Member__Output {
  'id': (number);
  /**
   * host:port of the member's gRPC server (clients and peers).
   */
  'address': (string);
  'learner': (boolean);
  /**
   * Leader only: highest log index known replicated on this member.
   */
  'matchIndex': (number);
}
