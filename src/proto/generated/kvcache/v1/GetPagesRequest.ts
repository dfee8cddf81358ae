// Original file: proto/kvcache/v1/cache.proto

import type { Dtype as _kvcache_v1_Dtype, Dtype__Output as _kvcache_v1_Dtype__Output } from '../../kvcache/v1/Dtype.js';
import type { Transfer as _kvcache_v1_Transfer, Transfer__Output as _kvcache_v1_Transfer__Output } from '../../kvcache/v1/Transfer.js';
import type { Long } from '@grpc/proto-loader';

export interface GetPagesRequest {
  'namespace'?: (string);
  /**
   * Pages to stream, in this order; at most 8192. The stream ends with NOT_FOUND at the first
   * missing key (the pages before it have been sent).
   */
  'keys'?: (Buffer | Uint8Array | string)[];
  /**
   * Return payloads as this dtype (FP32 from a stored FP16); unspecified = as stored.
   */
  'asDtype'?: (_kvcache_v1_Dtype);
  /**
   * Optional layer range [layer_begin, layer_end) of shape[0]; both 0 = the whole page.
   */
  'layerBegin'?: (number);
  'layerEnd'?: (number);
  'transfer'?: (_kvcache_v1_Transfer);
  /**
   * TRANSFER_SHARED_MEMORY only: the 16 bytes at offset 16 of the arena file (its nonce), read by
   * the client from the file itself: proof that it is on this host and reads this member's live
   * file. A wrong or missing nonce is KVC_SHM_NOT_ON_HOST (stream instead, and look again at
   * Status). Ignored when the member's arena is not shared (every page is streamed).
   */
  'shmNonce'?: (Buffer | Uint8Array | string);
  /**
   * TRANSFER_SHARED_MEMORY only: 1-64 bytes the client picks (random, once per process); leases
   * are this client's, and only it can release them.
   */
  'clientId'?: (Buffer | Uint8Array | string);
  /**
   * TRANSFER_SHARED_MEMORY only, and only to a member whose Status says
   * `memory_tier.shared_memory.releases_with_get` (an older member ignores this field, so its
   * leases would stay until they expire): leases of this client to end before any page is
   * answered, as ReleasePages would, saving it its own round trip. At most 8192. Every live
   * lease of this client in the list is released whatever the others are; then, before any page,
   * the call fails with KVC_LEASE_NOT_OWNED if one is another client's, else KVC_LEASE_UNKNOWN if
   * one is unknown or has expired (the client may send the request again without them). With ids
   * and no shared arena here: KVC_SHM_NOT_ON_HOST.
   */
  'releaseLeaseIds'?: (number | string | Long)[];
  /**
   * TRANSFER_SHARED_MEMORY only: this client checks the crc32c of each page it copies from the
   * arena, and asks for a page again over a stream (TRANSFER_GRPC) when its copy does not match.
   * The member then answers whole pages from the arena without reading them first: the check is
   * made once, by the reader, on the bytes it will use (DESIGN §6). Pages the member streams, and
   * places of a layer range or a converted page, are checked by the member as always. A member
   * that predates the field checks every page.
   */
  'clientVerifies'?: (boolean);
}

export interface GetPagesRequest__Output {
  'namespace': (string);
  /**
   * Pages to stream, in this order; at most 8192. The stream ends with NOT_FOUND at the first
   * missing key (the pages before it have been sent).
   */
  'keys': (Buffer)[];
  /**
   * Return payloads as this dtype (FP32 from a stored FP16); unspecified = as stored.
   */
  'asDtype': (_kvcache_v1_Dtype__Output);
  /**
   * Optional layer range [layer_begin, layer_end) of shape[0]; both 0 = the whole page.
   */
  'layerBegin': (number);
  'layerEnd': (number);
  'transfer': (_kvcache_v1_Transfer__Output);
  /**
   * TRANSFER_SHARED_MEMORY only: the 16 bytes at offset 16 of the arena file (its nonce), read by
   * the client from the file itself: proof that it is on this host and reads this member's live
   * file. A wrong or missing nonce is KVC_SHM_NOT_ON_HOST (stream instead, and look again at
   * Status). Ignored when the member's arena is not shared (every page is streamed).
   */
  'shmNonce': (Buffer);
  /**
   * TRANSFER_SHARED_MEMORY only: 1-64 bytes the client picks (random, once per process); leases
   * are this client's, and only it can release them.
   */
  'clientId': (Buffer);
  /**
   * TRANSFER_SHARED_MEMORY only, and only to a member whose Status says
   * `memory_tier.shared_memory.releases_with_get` (an older member ignores this field, so its
   * leases would stay until they expire): leases of this client to end before any page is
   * answered, as ReleasePages would, saving it its own round trip. At most 8192. Every live
   * lease of this client in the list is released whatever the others are; then, before any page,
   * the call fails with KVC_LEASE_NOT_OWNED if one is another client's, else KVC_LEASE_UNKNOWN if
   * one is unknown or has expired (the client may send the request again without them). With ids
   * and no shared arena here: KVC_SHM_NOT_ON_HOST.
   */
  'releaseLeaseIds': (number)[];
  /**
   * TRANSFER_SHARED_MEMORY only: this client checks the crc32c of each page it copies from the
   * arena, and asks for a page again over a stream (TRANSFER_GRPC) when its copy does not match.
   * The member then answers whole pages from the arena without reading them first: the check is
   * made once, by the reader, on the bytes it will use (DESIGN §6). Pages the member streams, and
   * places of a layer range or a converted page, are checked by the member as always. A member
   * that predates the field checks every page.
   */
  'clientVerifies': (boolean);
}
