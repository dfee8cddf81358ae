// Original file: proto/kvcache/v1/admin.proto

import type { Member as _kvcache_v1_Member, Member__Output as _kvcache_v1_Member__Output } from '../../kvcache/v1/Member.js';
import type { NativeStatus as _kvcache_v1_NativeStatus, NativeStatus__Output as _kvcache_v1_NativeStatus__Output } from '../../kvcache/v1/NativeStatus.js';
import type { MemoryTierStatus as _kvcache_v1_MemoryTierStatus, MemoryTierStatus__Output as _kvcache_v1_MemoryTierStatus__Output } from '../../kvcache/v1/MemoryTierStatus.js';
import type { ClusterSettings as _kvcache_v1_ClusterSettings, ClusterSettings__Output as _kvcache_v1_ClusterSettings__Output } from '../../kvcache/v1/ClusterSettings.js';
import type { NamespaceStatus as _kvcache_v1_NamespaceStatus, NamespaceStatus__Output as _kvcache_v1_NamespaceStatus__Output } from '../../kvcache/v1/NamespaceStatus.js';
import type { WatchStatus as _kvcache_v1_WatchStatus, WatchStatus__Output as _kvcache_v1_WatchStatus__Output } from '../../kvcache/v1/WatchStatus.js';
import type { DirectIoStatus as _kvcache_v1_DirectIoStatus, DirectIoStatus__Output as _kvcache_v1_DirectIoStatus__Output } from '../../kvcache/v1/DirectIoStatus.js';
import type { SharedLookupStatus as _kvcache_v1_SharedLookupStatus, SharedLookupStatus__Output as _kvcache_v1_SharedLookupStatus__Output } from '../../kvcache/v1/SharedLookupStatus.js';
import type { Long } from '@grpc/proto-loader';

export interface StatusResponse {
  'id'?: (number | string | Long);
  'address'?: (string);
  /**
   * "leader", "follower", "candidate", "pre-candidate", or "stopped".
   */
  'role'?: (string);
  'term'?: (number | string | Long);
  'commitIndex'?: (number | string | Long);
  'appliedIndex'?: (number | string | Long);
  'leaderId'?: (number | string | Long);
  'leaderAddress'?: (string);
  'members'?: (_kvcache_v1_Member)[];
  'pages'?: (number | string | Long);
  /**
   * Stored payload bytes.
   */
  'bytes'?: (number | string | Long);
  'pid'?: (number);
  'walFirstIndex'?: (number | string | Long);
  'walLastIndex'?: (number | string | Long);
  'walSegments'?: (number);
  /**
   * Process uptime in ms.
   */
  'uptimeMs'?: (number | string | Long);
  /**
   * Empty unless StatusRequest.include_digest was set. Otherwise sha256 (hex) over every key and
   * value of the member's store, applied index included: two members hold the same state exactly
   * when their digests are equal. Computing it reads the whole store, so ask only when needed
   * (e.g. the chaos harness's convergence check).
   */
  'digest'?: (string);
  'native'?: (_kvcache_v1_NativeStatus | null);
  'memoryTier'?: (_kvcache_v1_MemoryTierStatus | null);
  /**
   * Pages and payload bytes removed by eviction (leader-proposed, replicated) since this store was
   * created: the same on every member that applied the same log.
   */
  'evictedPages'?: (number | string | Long);
  'evictedBytes'?: (number | string | Long);
  /**
   * Pages deleted because their TTL ran out (leader-proposed, replicated).
   */
  'expiredPages'?: (number | string | Long);
  /**
   * The replicated capacity settings this member enforces.
   */
  'settings'?: (_kvcache_v1_ClusterSettings | null);
  /**
   * Per-namespace figures, sorted by name.
   */
  'namespaces'?: (_kvcache_v1_NamespaceStatus)[];
  /**
   * Blob files (member-local, not replicated): payload bytes on disk in them, the part no page
   * refers to any more (GC reclaims it), how many files, and how many files GC has collected
   * since the store was opened.
   */
  'blobBytes'?: (number | string | Long);
  'blobGarbageBytes'?: (number | string | Long);
  'blobFiles'?: (number | string | Long);
  'blobGcRuns'?: (number | string | Long);
  /**
   * Where this member serves Prometheus metrics (http://host:port/metrics); empty when it has no
   * metrics listener (config members[].metricsAddress). Numbered apart from the fields above so
   * new status fields can be added below it in order.
   */
  'metricsUrl'?: (string);
  /**
   * Test-only fault switches this member runs with (e.g. "unsafe-test-ack": puts acknowledged
   * before they are durable). Empty on every member that is fit for real data; `kvc status` warns
   * about any other.
   */
  'unsafeTestSwitches'?: (string)[];
  /**
   * The Watch feed this member serves (its events come from its own applied state, so on a
   * follower they lag the leader's commit by commit_index - applied_index entries).
   */
  'watch'?: (_kvcache_v1_WatchStatus | null);
  /**
   * With include_digest: the page-set digest (sha256 over the pages sorted by namespace and key,
   * each `namespace 0 key-hex 0 parent-hex 0 bytes 0 tokens \n`), what ListPages + Watch
   * rebuild, and the applied index it describes.
   */
  'pagesDigest'?: (string);
  'pagesDigestIndex'?: (number | string | Long);
  /**
   * Whether this member reads blob payloads past the page cache (O_DIRECT), and how it appends to
   * its WAL segments and blob files (docs/ARCHITECTURE.md "Appends and direct reads").
   */
  'directIo'?: (_kvcache_v1_DirectIoStatus | null);
  /**
   * The index of this member's stored pages in a shared-memory file, from which a client on the
   * same host answers Lookup without a call (docs/CLIENT.md "Same-host lookups"). Absent when the
   * member keeps none (shared memory off, or the file could not be made: `shared_lookup_note`).
   */
  'sharedLookup'?: (_kvcache_v1_SharedLookupStatus | null);
  /**
   * Empty, or why this member keeps no shared lookup index although shared memory is on.
   */
  'sharedLookupNote'?: (string);
  /**
   * The value log (docs/ARCHITECTURE.md "Blob files"): true when this member keeps a large page
   * payload where its put's entry lies in its WAL (the segment hard-linked into its blob folder)
   * instead of writing it a second time; false with the reason in value_log_note (KVC_WAL_PAYLOADS=0,
   * or a link refused: the WAL on another filesystem than the store).
   */
  'valueLog'?: (boolean);
  'valueLogNote'?: (string);
  /**
   * How many of blob_files are WAL segments linked in (their bytes count in blob_bytes).
   */
  'blobWalFiles'?: (number | string | Long);
}

export interface StatusResponse__Output {
  'id': (number);
  'address': (string);
  /**
   * "leader", "follower", "candidate", "pre-candidate", or "stopped".
   */
  'role': (string);
  'term': (number);
  'commitIndex': (number);
  'appliedIndex': (number);
  'leaderId': (number);
  'leaderAddress': (string);
  'members': (_kvcache_v1_Member__Output)[];
  'pages': (number);
  /**
   * Stored payload bytes.
   */
  'bytes': (number);
  'pid': (number);
  'walFirstIndex': (number);
  'walLastIndex': (number);
  'walSegments': (number);
  /**
   * Process uptime in ms.
   */
  'uptimeMs': (number);
  /**
   * Empty unless StatusRequest.include_digest was set. Otherwise sha256 (hex) over every key and
   * value of the member's store, applied index included: two members hold the same state exactly
   * when their digests are equal. Computing it reads the whole store, so ask only when needed
   * (e.g. the chaos harness's convergence check).
   */
  'digest': (string);
  'native': (_kvcache_v1_NativeStatus__Output | null);
  'memoryTier': (_kvcache_v1_MemoryTierStatus__Output | null);
  /**
   * Pages and payload bytes removed by eviction (leader-proposed, replicated) since this store was
   * created: the same on every member that applied the same log.
   */
  'evictedPages': (number);
  'evictedBytes': (number);
  /**
   * Pages deleted because their TTL ran out (leader-proposed, replicated).
   */
  'expiredPages': (number);
  /**
   * The replicated capacity settings this member enforces.
   */
  'settings': (_kvcache_v1_ClusterSettings__Output | null);
  /**
   * Per-namespace figures, sorted by name.
   */
  'namespaces': (_kvcache_v1_NamespaceStatus__Output)[];
  /**
   * Blob files (member-local, not replicated): payload bytes on disk in them, the part no page
   * refers to any more (GC reclaims it), how many files, and how many files GC has collected
   * since the store was opened.
   */
  'blobBytes': (number);
  'blobGarbageBytes': (number);
  'blobFiles': (number);
  'blobGcRuns': (number);
  /**
   * Where this member serves Prometheus metrics (http://host:port/metrics); empty when it has no
   * metrics listener (config members[].metricsAddress). Numbered apart from the fields above so
   * new status fields can be added below it in order.
   */
  'metricsUrl': (string);
  /**
   * Test-only fault switches this member runs with (e.g. "unsafe-test-ack": puts acknowledged
   * before they are durable). Empty on every member that is fit for real data; `kvc status` warns
   * about any other.
   */
  'unsafeTestSwitches': (string)[];
  /**
   * The Watch feed this member serves (its events come from its own applied state, so on a
   * follower they lag the leader's commit by commit_index - applied_index entries).
   */
  'watch': (_kvcache_v1_WatchStatus__Output | null);
  /**
   * With include_digest: the page-set digest (sha256 over the pages sorted by namespace and key,
   * each `namespace 0 key-hex 0 parent-hex 0 bytes 0 tokens \n`), what ListPages + Watch
   * rebuild, and the applied index it describes.
   */
  'pagesDigest': (string);
  'pagesDigestIndex': (number);
  /**
   * Whether this member reads blob payloads past the page cache (O_DIRECT), and how it appends to
   * its WAL segments and blob files (docs/ARCHITECTURE.md "Appends and direct reads").
   */
  'directIo': (_kvcache_v1_DirectIoStatus__Output | null);
  /**
   * The index of this member's stored pages in a shared-memory file, from which a client on the
   * same host answers Lookup without a call (docs/CLIENT.md "Same-host lookups"). Absent when the
   * member keeps none (shared memory off, or the file could not be made: `shared_lookup_note`).
   */
  'sharedLookup': (_kvcache_v1_SharedLookupStatus__Output | null);
  /**
   * Empty, or why this member keeps no shared lookup index although shared memory is on.
   */
  'sharedLookupNote': (string);
  /**
   * The value log (docs/ARCHITECTURE.md "Blob files"): true when this member keeps a large page
   * payload where its put's entry lies in its WAL (the segment hard-linked into its blob folder)
   * instead of writing it a second time; false with the reason in value_log_note (KVC_WAL_PAYLOADS=0,
   * or a link refused: the WAL on another filesystem than the store).
   */
  'valueLog': (boolean);
  'valueLogNote': (string);
  /**
   * How many of blob_files are WAL segments linked in (their bytes count in blob_bytes).
   */
  'blobWalFiles': (number);
}
