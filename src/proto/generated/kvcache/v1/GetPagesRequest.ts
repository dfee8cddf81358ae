// Original file: proto/kvcache/v1/cache.proto

import type { Dtype as _kvcache_v1_Dtype, Dtype__Output as _kvcache_v1_Dtype__Output } from '../../kvcache/v1/Dtype.js';
import type { Transfer as _kvcache_v1_Transfer, Transfer__Output as _kvcache_v1_Transfer__Output } from '../../kvcache/v1/Transfer.js';

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
}
