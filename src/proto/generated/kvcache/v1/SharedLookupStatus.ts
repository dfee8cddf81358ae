// Original file: proto/kvcache/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * The shared lookup index (layout: src/native/shared-lookup.ts): a hash set of the 8-byte
 * fingerprints of every stored page, written by the member, read lock-free by same-host clients.
 */
export interface SharedLookupStatus {
  /**
   * Absolute path on the member's host (mode 0600: readable by the member's user only).
   */
  'path'?: (string);
  /**
   * SHA-256 of the 16-byte nonce at offset 16 of the file: as for the shared arena, a client
   * that reads the same nonce from the file knows it opened this member's live file.
   */
  'nonceSha256'?: (Buffer | Uint8Array | string);
  /**
   * Slots of the table, and the fingerprints in it (the member's stored pages).
   */
  'capacity'?: (number | string | Long);
  'pages'?: (number | string | Long);
  'fileBytes'?: (number | string | Long);
  /**
   * Since the member started: the table was rebuilt (tombstones dropped) or grown into a new file.
   */
  'rebuilds'?: (number | string | Long);
  'grows'?: (number | string | Long);
}

/**
 * The shared lookup index (layout: src/native/shared-lookup.ts): a hash set of the 8-byte
 * fingerprints of every stored page, written by the member, read lock-free by same-host clients.
 */
export interface SharedLookupStatus__Output {
  /**
   * Absolute path on the member's host (mode 0600: readable by the member's user only).
   */
  'path': (string);
  /**
   * SHA-256 of the 16-byte nonce at offset 16 of the file: as for the shared arena, a client
   * that reads the same nonce from the file knows it opened this member's live file.
   */
  'nonceSha256': (Buffer);
  /**
   * Slots of the table, and the fingerprints in it (the member's stored pages).
   */
  'capacity': (number);
  'pages': (number);
  'fileBytes': (number);
  /**
   * Since the member started: the table was rebuilt (tombstones dropped) or grown into a new file.
   */
  'rebuilds': (number);
  'grows': (number);
}
