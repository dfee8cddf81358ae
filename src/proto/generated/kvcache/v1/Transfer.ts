// Original file: proto/kvcache/v1/cache.proto

/**
 * How GetPages delivers page bytes.
 */
export const Transfer = {
  /**
   * As TRANSFER_GRPC (what clients that predate the field get).
   */
  TRANSFER_UNSPECIFIED: 'TRANSFER_UNSPECIFIED',
  /**
   * Bytes in `data` chunks on the stream.
   */
  TRANSFER_GRPC: 'TRANSFER_GRPC',
  /**
   * Same-host clients: where the bytes are in the member's shared arena (`shared`), under a
   * lease the client ends once it has copied them (ReleasePages, or its next GetPages'
   * release_lease_ids). Needs `shm_nonce` and `client_id`. A page that is not in the arena (too
   * large, or every slot is held), a converted page (as_dtype), and any page once every lease is
   * taken, is streamed in `data` chunks instead, so a client must handle both answers. See
   * docs/CLIENT.md.
   */
  TRANSFER_SHARED_MEMORY: 'TRANSFER_SHARED_MEMORY',
} as const;

/**
 * How GetPages delivers page bytes.
 */
export type Transfer =
  /**
   * As TRANSFER_GRPC (what clients that predate the field get).
   */
  | 'TRANSFER_UNSPECIFIED'
  | 0
  /**
   * Bytes in `data` chunks on the stream.
   */
  | 'TRANSFER_GRPC'
  | 1
  /**
   * Same-host clients: where the bytes are in the member's shared arena (`shared`), under a
   * lease the client ends once it has copied them (ReleasePages, or its next GetPages'
   * release_lease_ids). Needs `shm_nonce` and `client_id`. A page that is not in the arena (too
   * large, or every slot is held), a converted page (as_dtype), and any page once every lease is
   * taken, is streamed in `data` chunks instead, so a client must handle both answers. See
   * docs/CLIENT.md.
   */
  | 'TRANSFER_SHARED_MEMORY'
  | 2

/**
 * How GetPages delivers page bytes.
 */
export type Transfer__Output = typeof Transfer[keyof typeof Transfer]
