// The cluster as `kvc status` shows it and `kvc dev` waits for it: one row per member, found from
// the given endpoints and the member lists they report, with the replication lag worked out
// against the leader's commit index, each member's native addon and memory tier, its removal
// counters and capacity settings, and (when asked) its state digest.
import type { ClusterSettings, MemberStatus } from '../client/index.js';
import { CliError } from './cli-error.js';
import type { ClientAccess } from './connect.js';
import { sleep } from './stop-signal.js';

export interface MemberRow {
  id: number | null;
  address: string;
  /**
   * The member's own role; "learner" for a follower the leader lists as one, "removed" for one the
   * leader does not list, "unreachable" for one that did not answer.
   */
  role: string;
  term: number | null;
  commitIndex: number | null;
  appliedIndex: number | null;
  /** Entries the member has yet to apply of what the leader committed. */
  lag: number | null;
  pages: number | null;
  bytes: number | null;
  pid: number | null;
  /** Its Prometheus endpoint (http://host:port/metrics); null when it serves none or is unreachable. */
  metricsUrl: string | null;
  /** The member's process loaded the native addon; null when unknown (unreachable, or an older member). */
  native: boolean | null;
  /** Why the addon is not loaded ('' when it is). */
  nativeReason: string | null;
  /** The memory tier's arena: bytes in total (0 = no tier) and in use by cached pages. */
  arenaBytes: number | null;
  arenaUsedBytes: number | null;
  /** Every region of the arena is locked in RAM. */
  mlocked: boolean | null;
  /** The NUMA node each arena region is on (-1: unknown). */
  numaNodes: number[] | null;
  tierHits: number | null;
  tierMisses: number | null;
  /** hits / (hits + misses) of the memory tier; 0 before the first read. */
  hitRatio: number | null;
  /** Why the arena is not pinned or not bound ('' when it is). */
  arenaNote: string | null;
  /** Pages and payload bytes removed by eviction, and pages whose TTL ran out (replicated counters). */
  evictedPages: number | null;
  evictedBytes: number | null;
  expiredPages: number | null;
  /** The capacity settings the member enforces; null when unknown (unreachable, or an older member). */
  settings: ClusterSettings | null;
  /** sha256 of the member's whole store; null unless asked for (and answered). */
  digest: string | null;
  /** Test-only fault switches the member runs with (empty in production); null when unreachable. */
  unsafeTestSwitches: string[] | null;
  /** It reads blob payloads (and writes 'direct' appends) past the page cache (O_DIRECT); null when unknown (unreachable, or an older member). */
  directIo: boolean | null;
  /** Why they do not ('' when they do). */
  directIoReason: string | null;
  /** How the member appends to its WAL and blob files ('dropped', 'direct', 'cached'); null when unknown (down, or an older member). */
  appends: string | null;
  /** Why not as KVC_APPEND_IO asked; null when as asked. */
  appendsReason: string | null;
  /**
   * Why the member writes large payloads to blob files as well as its WAL (the value log is off);
   * null when it keeps them in its WAL, or unknown (unreachable, or an older member).
   */
  valueLogOff: string | null;
  /** The Watch feed the member serves; null when unknown (unreachable, or an older member). */
  watch: WatchRow | null;
  /** The page-set digest (what ListPages + Watch rebuild) and its applied index; null unless asked for. */
  pagesDigest: string | null;
  pagesDigestIndex: number | null;
  /** The arena's shared-memory files and their leases; null when the arena is not shared (or unknown). */
  sharedMemory: SharedMemoryRow | null;
  /** Why the member did not answer. */
  error?: string;
}

/** Status.watch: the oldest index a Watch may start from, the events and bytes in the member's ring, open streams. */
export interface WatchRow {
  oldestIndex: number;
  events: number;
  bytes: number;
  watchers: number;
}

/** Status.memory_tier.shared_memory, less the nonce hash (a client's business, not an operator's). */
export interface SharedMemoryRow {
  files: { path: string; fileBytes: number }[];
  leasesHeld: number;
  leasesMax: number;
  leasesPerClientMax: number;
  leaseMs: number;
  leasesGranted: number;
  leasesExpired: number;
  streamedLeasesFull: number;
}

export interface ClusterView {
  /** The leader's id, or null when no member reports itself leader. */
  leader: number | null;
  members: MemberRow[];
}

/** Status calls are answered from local state; a member that takes longer is as good as down. */
export const STATUS_DEADLINE_MS = 2_000;
const LEADER_POLL_MS = 100;

/**
 * Asks `endpoints`, and every member they list, for their status; with `includeDigest`, for their
 * state digests too (each member reads its whole store for it).
 */
export async function gatherClusterView(endpoints: string[], access: ClientAccess = {}, deadlineMs = STATUS_DEADLINE_MS, includeDigest = false): Promise<ClusterView> {
  // Loaded here: importing this file (kvc dev, kvc status) must not load grpc-js up front.
  const { KvcClient } = await import('../client/index.js');
  const client = new KvcClient({ endpoints, deadlineMs, retries: 0, ...access });
  try {
    const status = await client.clusterStatus({ includeDigest });
    return toView(status.members, status.unreachable);
  } finally {
    client.close();
  }
}

function toView(statuses: MemberStatus[], unreachable: { address: string; code: string; message: string }[]): ClusterView {
  const leaderStatus = statuses.filter((s) => s.role === 'leader').sort((a, b) => b.term - a.term)[0];
  const commit = leaderStatus?.commitIndex ?? Math.max(0, ...statuses.map((s) => s.commitIndex));
  const leaderMembers = leaderStatus?.members ?? [];
  const learners = new Set(leaderMembers.filter((m) => m.learner).map((m) => m.id));
  // A member the leader no longer lists was removed; it may still run and answer until stopped.
  const removed = (id: number): boolean => leaderMembers.length > 0 && !leaderMembers.some((m) => m.id === id);
  const idsByAddress = new Map<string, number>();
  for (const status of statuses) for (const member of status.members) idsByAddress.set(member.address, member.id);
  const rows: MemberRow[] = statuses.map((s) => ({
    id: s.id,
    address: s.address,
    role: removed(s.id) ? 'removed' : s.role === 'follower' && learners.has(s.id) ? 'learner' : s.role,
    term: s.term,
    commitIndex: s.commitIndex,
    appliedIndex: s.appliedIndex,
    lag: Math.max(0, commit - s.appliedIndex),
    pages: s.pages,
    bytes: s.bytes,
    pid: s.pid,
    metricsUrl: s.metricsUrl === '' || s.metricsUrl === undefined ? null : s.metricsUrl,
    ...nativeAndTier(s),
    evictedPages: s.evictedPages,
    evictedBytes: s.evictedBytes,
    expiredPages: s.expiredPages,
    settings: s.settings,
    digest: s.digest === '' ? null : s.digest,
    unsafeTestSwitches: s.unsafeTestSwitches ?? [],
    directIo: s.directIo ? s.directIo.enabled : null,
    directIoReason: s.directIo ? s.directIo.reason : null,
    appends: s.directIo && s.directIo.appends !== '' ? s.directIo.appends : null,
    appendsReason: s.directIo && s.directIo.appendsReason !== '' ? s.directIo.appendsReason : null,
    // An older member sends neither field: false with no note is not "off".
    valueLogOff: !s.valueLog && s.valueLogNote !== '' ? s.valueLogNote : null,
    watch: s.watch ? { oldestIndex: s.watch.oldestIndex, events: s.watch.events, bytes: s.watch.bytes, watchers: s.watch.watchers } : null,
    pagesDigest: s.pagesDigest ? s.pagesDigest : null,
    pagesDigestIndex: s.pagesDigest ? s.pagesDigestIndex : null,
    sharedMemory: sharedMemoryRow(s),
  }));
  const answered = new Set(statuses.map((s) => s.id));
  for (const down of unreachable) {
    const id = idsByAddress.get(down.address) ?? null;
    if (id !== null && answered.has(id)) continue; // Reached under another address.
    rows.push({
      id,
      address: down.address,
      role: 'unreachable',
      term: null,
      commitIndex: null,
      appliedIndex: null,
      lag: null,
      pages: null,
      bytes: null,
      pid: null,
      metricsUrl: null,
      ...UNKNOWN_NATIVE_AND_TIER,
      evictedPages: null,
      evictedBytes: null,
      expiredPages: null,
      settings: null,
      digest: null,
      unsafeTestSwitches: null,
      directIo: null,
      directIoReason: null,
      appends: null,
      appendsReason: null,
      valueLogOff: null,
      watch: null,
      pagesDigest: null,
      pagesDigestIndex: null,
      sharedMemory: null,
      error: down.message,
    });
  }
  rows.sort((a, b) => (a.id ?? Infinity) - (b.id ?? Infinity) || a.address.localeCompare(b.address));
  return { leader: leaderStatus?.id ?? null, members: rows };
}

type NativeAndTier = Pick<
  MemberRow,
  'native' | 'nativeReason' | 'arenaBytes' | 'arenaUsedBytes' | 'mlocked' | 'numaNodes' | 'tierHits' | 'tierMisses' | 'hitRatio' | 'arenaNote'
>;

const UNKNOWN_NATIVE_AND_TIER: NativeAndTier = Object.freeze({
  native: null,
  nativeReason: null,
  arenaBytes: null,
  arenaUsedBytes: null,
  mlocked: null,
  numaNodes: null,
  tierHits: null,
  tierMisses: null,
  hitRatio: null,
  arenaNote: null,
});

/** The addon and memory tier columns; unknown for a member that does not report them. */
function nativeAndTier(s: MemberStatus): NativeAndTier {
  const tier = s.memoryTier;
  return {
    ...UNKNOWN_NATIVE_AND_TIER,
    ...(s.native ? { native: s.native.loaded, nativeReason: s.native.reason } : {}),
    ...(tier
      ? {
          arenaBytes: tier.arenaBytes,
          arenaUsedBytes: tier.usedBytes,
          mlocked: tier.mlocked,
          numaNodes: [...tier.numaNodes],
          tierHits: tier.hits,
          tierMisses: tier.misses,
          hitRatio: tier.hitRatio,
          arenaNote: tier.note,
        }
      : {}),
  };
}

function sharedMemoryRow(s: MemberStatus): SharedMemoryRow | null {
  const shared = s.memoryTier?.sharedMemory;
  if (!shared) return null;
  const { files, leasesHeld, leasesMax, leasesPerClientMax, leaseMs, leasesGranted, leasesExpired, streamedLeasesFull } = shared;
  return {
    files: files.map((f) => ({ path: f.path, fileBytes: f.fileBytes })),
    leasesHeld,
    leasesMax,
    leasesPerClientMax,
    leaseMs,
    leasesGranted,
    leasesExpired,
    streamedLeasesFull,
  };
}

/**
 * Polls `endpoints` until every one answers and all agree on one leader; returns its id. Throws a
 * CliError after `timeoutMs`, or the abort reason when `signal` fires.
 */
export async function waitForLeader(endpoints: string[], timeoutMs: number, signal?: AbortSignal, access: ClientAccess = {}): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no member answered yet';
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const view = await gatherClusterView(endpoints, access, Math.min(STATUS_DEADLINE_MS, Math.max(1, deadline - Date.now())));
    const agreed = view.leader !== null && view.members.length === endpoints.length && view.members.every((m) => m.role !== 'unreachable');
    if (agreed) {
      const statuses = view.members;
      if (statuses.every((m) => m.term === statuses.find((s) => s.id === view.leader)?.term)) return view.leader!;
    }
    last = view.leader === null ? 'no leader yet' : `members disagree or are unreachable (${view.members.map((m) => `${m.id}:${m.role}`).join(' ')})`;
    await sleep(LEADER_POLL_MS, signal);
  }
  throw new CliError(`the cluster had no leader within ${timeoutMs} ms (${last})`);
}
