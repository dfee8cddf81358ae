// Original file: proto/kvcache/v1/admin.proto

import type { SharedMemoryFile as _kvcache_v1_SharedMemoryFile, SharedMemoryFile__Output as _kvcache_v1_SharedMemoryFile__Output } from '../../kvcache/v1/SharedMemoryFile.js';
import type { Long } from '@grpc/proto-loader';

/**
 * The arena's shared-memory files and the leases clients hold on them.
 */
export interface SharedMemoryStatus {
  /**
   * One file per arena region (one per NUMA node the arena spans), in region order: the
   * `region` of a SharedPage indexes this list.
   */
  'files'?: (_kvcache_v1_SharedMemoryFile)[];
  /**
   * SHA-256 of the 16-byte nonce at offset 16 of every file's header. A client compares it with
   * the hash of the nonce it reads from the file to know it opened this member's live file, then
   * sends the nonce itself (never this hash) as proof that it is on the host.
   */
  'nonceSha256'?: (Buffer | Uint8Array | string);
  /**
   * Leases held now, at most at once (past it pages are streamed), and how long one lasts.
   */
  'leasesHeld'?: (number);
  'leasesMax'?: (number);
  'leasesPerClientMax'?: (number);
  'leaseMs'?: (number | string | Long);
  /**
   * Since the member started: leases granted, ended by their time (not released), and pages
   * streamed instead because every lease was taken.
   */
  'leasesGranted'?: (number | string | Long);
  'leasesExpired'?: (number | string | Long);
  'streamedLeasesFull'?: (number | string | Long);
  /**
   * This member ends the leases named in GetPagesRequest.release_lease_ids (a member that
   * predates the field leaves this false: release its leases with ReleasePages).
   */
  'releasesWithGet'?: (boolean);
}

/**
 * The arena's shared-memory files and the leases clients hold on them.
 */
export interface SharedMemoryStatus__Output {
  /**
   * One file per arena region (one per NUMA node the arena spans), in region order: the
   * `region` of a SharedPage indexes this list.
   */
  'files': (_kvcache_v1_SharedMemoryFile__Output)[];
  /**
   * SHA-256 of the 16-byte nonce at offset 16 of every file's header. A client compares it with
   * the hash of the nonce it reads from the file to know it opened this member's live file, then
   * sends the nonce itself (never this hash) as proof that it is on the host.
   */
  'nonceSha256': (Buffer);
  /**
   * Leases held now, at most at once (past it pages are streamed), and how long one lasts.
   */
  'leasesHeld': (number);
  'leasesMax': (number);
  'leasesPerClientMax': (number);
  'leaseMs': (number);
  /**
   * Since the member started: leases granted, ended by their time (not released), and pages
   * streamed instead because every lease was taken.
   */
  'leasesGranted': (number);
  'leasesExpired': (number);
  'streamedLeasesFull': (number);
  /**
   * This member ends the leases named in GetPagesRequest.release_lease_ids (a member that
   * predates the field leaves this false: release its leases with ReleasePages).
   */
  'releasesWithGet': (boolean);
}
