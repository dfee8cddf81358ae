// Original file: proto/kvcache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface ReleasePagesRequest {
  /**
   * As in GetPagesRequest: the arena nonce (KVC_SHM_NOT_ON_HOST when wrong) and the client id
   * the leases were granted to.
   */
  'shmNonce'?: (Buffer | Uint8Array | string);
  'clientId'?: (Buffer | Uint8Array | string);
  /**
   * At most 8192. Every live lease of this client in the list is released, whatever the others
   * are; then the call fails with KVC_LEASE_NOT_OWNED if one is another client's (left as it
   * is), else KVC_LEASE_UNKNOWN if one is unknown or has expired.
   */
  'leaseIds'?: (number | string | Long)[];
}

export interface ReleasePagesRequest__Output {
  /**
   * As in GetPagesRequest: the arena nonce (KVC_SHM_NOT_ON_HOST when wrong) and the client id
   * the leases were granted to.
   */
  'shmNonce': (Buffer);
  'clientId': (Buffer);
  /**
   * At most 8192. Every live lease of this client in the list is released, whatever the others
   * are; then the call fails with KVC_LEASE_NOT_OWNED if one is another client's (left as it
   * is), else KVC_LEASE_UNKNOWN if one is unknown or has expired.
   */
  'leaseIds': (number)[];
}
