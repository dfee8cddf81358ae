// Original file: proto/kvcache/v1/peer.proto

import type { Long } from '@grpc/proto-loader';

/**
 * One part of a store snapshot stream. The first part carries `message` (the encoded MsgSnap
 * to step once the image is installed); parts carry the store's chunks in order.
 */
export interface SnapshotPart {
  'message'?: (Buffer | Uint8Array | string);
  'seq'?: (number | string | Long);
  /**
   * At most 1 MiB.
   */
  'data'?: (Buffer | Uint8Array | string);
  'crc32c'?: (number);
  'last'?: (boolean);
  /**
   * On the last part: crc32c over every chunk's data, and the image's applied index.
   */
  'totalCrc32c'?: (number);
  'appliedIndex'?: (number | string | Long);
}

/**
 * One part of a store snapshot stream. The first part carries `message` (the encoded MsgSnap
 * to step once the image is installed); parts carry the store's chunks in order.
 */
export interface SnapshotPart__Output {
  'message': (Buffer);
  'seq': (number);
  /**
   * At most 1 MiB.
   */
  'data': (Buffer);
  'crc32c': (number);
  'last': (boolean);
  /**
   * On the last part: crc32c over every chunk's data, and the image's applied index.
   */
  'totalCrc32c': (number);
  'appliedIndex': (number);
}
