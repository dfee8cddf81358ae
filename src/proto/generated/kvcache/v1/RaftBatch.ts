// Original file: proto/kvcache/v1/peer.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A batch of Raft messages from one member to another.
 */
export interface RaftBatch {
  'from'?: (number | string | Long);
  'to'?: (number | string | Long);
  /**
   * Each an encoded Raft message (at most 34 MiB: one 32 MiB entry plus headroom).
   */
  'messages'?: (Buffer | Uint8Array | string)[];
  /**
   * The sender's advertised host:port. A receiver that has no address for `from` (a member added
   * while it was down, whose ConfChange it only received inside a snapshot) learns it here; a
   * known address is never replaced by this field.
   */
  'fromAddress'?: (string);
  /**
   * Optional: this member's recent page accesses (lookups and reads), msgpack-encoded
   * (src/codec encodeAccessReport), sent to the leader at least once a second so its eviction
   * order reflects reads served anywhere. A batch may carry only this, with no messages.
   */
  'accessReport'?: (Buffer | Uint8Array | string);
}

/**
 * A batch of Raft messages from one member to another.
 */
export interface RaftBatch__Output {
  'from': (number);
  'to': (number);
  /**
   * Each an encoded Raft message (at most 34 MiB: one 32 MiB entry plus headroom).
   */
  'messages': (Buffer)[];
  /**
   * The sender's advertised host:port. A receiver that has no address for `from` (a member added
   * while it was down, whose ConfChange it only received inside a snapshot) learns it here; a
   * known address is never replaced by this field.
   */
  'fromAddress': (string);
  /**
   * Optional: this member's recent page accesses (lookups and reads), msgpack-encoded
   * (src/codec encodeAccessReport), sent to the leader at least once a second so its eviction
   * order reflects reads served anywhere. A batch may carry only this, with no messages.
   */
  'accessReport': (Buffer);
}
