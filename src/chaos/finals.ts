// After the last heal and the end of the workload: wait until every member of the final
// configuration has applied the same index with the same store digest (bounded), then read every
// key of the workload from every member alone (a client with that single endpoint), computing
// the checksum of what arrives. These are the history's `finals`, what the durability and
// convergence checkers read. The cluster may still apply entries while they are read (an eviction
// the leader proposes after the last put), so keys the members answer differently are read again
// once the cluster converged again past them (readSettledFinals). Then the replicated removal
// record (readRemovalEvidence), which tells the checkers which pages eviction took.
import { crc32c } from '../codec/index.js';
import { KvcClient } from '../client/index.js';
import type { ChaosCluster } from './cluster.js';
import { sleep } from './cluster.js';
import type { MemberView } from './admin.js';
import type { MemberFinalState, PageValue, RemovalEvidence } from './history.js';
import { hex } from './checkers/common.js';
import { WORKLOAD_NAMESPACE } from './workload.js';
import { rereadDiffering } from './reread.js';

/** Convergence bound: a member that restarted last catches up in seconds. */
export const CONVERGENCE_TIMEOUT_MS = 30_000;
const CONVERGENCE_POLL_MS = 250;
const FINAL_READ_DEADLINE_MS = 10_000;

export interface Convergence {
  converged: boolean;
  /** How long the wait took. */
  waitedMs: number;
  /** The last Status (with digest) of each final member. */
  views: Map<number, MemberView>;
  /** The members of the final configuration (voters and learners, per the leader). */
  members: number[];
}

/** Polls until all final members agree on applied index and digest, or the bound passes (or `signal` aborts). */
export async function awaitConvergence(cluster: ChaosCluster, signal?: AbortSignal, timeoutMs = CONVERGENCE_TIMEOUT_MS): Promise<Convergence> {
  const started = performance.now();
  let members = cluster.ids;
  let views = new Map<number, MemberView>();
  for (;;) {
    members = await finalMembers(cluster, members);
    views = await cluster.statuses({ digest: true, ids: members });
    const all = members.map((id) => views.get(id));
    const first = all[0];
    const agreed =
      first !== undefined &&
      all.every((view) => view !== undefined && view.appliedIndex === first.appliedIndex && view.digest === first.digest && view.appliedIndex >= view.commitIndex);
    const waitedMs = performance.now() - started;
    if (agreed || waitedMs >= timeoutMs || signal?.aborted === true) return { converged: agreed, waitedMs, views, members };
    await sleep(CONVERGENCE_POLL_MS, signal);
  }
}

/** The leader's view of the membership, or the previous answer when no leader answers now. */
async function finalMembers(cluster: ChaosCluster, previous: number[]): Promise<number[]> {
  const leader = await cluster.leader();
  if (leader === undefined) return previous;
  const view = (await cluster.statuses({ ids: [leader] })).get(leader);
  if (view === undefined) return previous;
  return [...view.voters, ...view.learners].sort((a, b) => a - b);
}

/**
 * Every key read from every member alone. A page a member fails to serve (an error, not a miss)
 * counts as absent there, and the error is reported through `onError`.
 */
async function readFinals(
  cluster: ChaosCluster,
  convergence: Convergence,
  keys: Uint8Array[],
  onError: (line: string) => void,
): Promise<MemberFinalState[]> {
  // Members are read at the same time (each key after key): a run with a budget has hundreds of keys.
  return Promise.all(convergence.members.map((id) => readMember(cluster, id, convergence.views.get(id), keys, onError)));
}

/**
 * readFinals, then rereadDiffering over this cluster: keys the members answered differently while
 * the cluster applied past the converged index are read again after a new convergence.
 */
export async function readSettledFinals(
  cluster: ChaosCluster,
  convergence: Convergence,
  keys: Uint8Array[],
  onLog: (line: string) => void,
  signal?: AbortSignal,
): Promise<{ finals: MemberFinalState[]; convergence: Convergence }> {
  const finals = await readFinals(cluster, convergence, keys, onLog);
  return rereadDiffering(convergence, finals, keys, {
    appliedIndexNow: async (members) => Math.max(0, ...[...(await cluster.statuses({ ids: members })).values()].map((v) => v.appliedIndex)),
    converge: () => awaitConvergence(cluster, signal),
    read: (again, some) => readFinals(cluster, again, some, onLog),
    log: onLog,
    ...(signal === undefined ? {} : { signal }),
  });
}

async function readMember(
  cluster: ChaosCluster,
  id: number,
  view: MemberView | undefined,
  keys: Uint8Array[],
  onError: (line: string) => void,
): Promise<MemberFinalState> {
  const address = cluster.address(id);
  const client = new KvcClient({ endpoints: [address], retries: 0, deadlineMs: FINAL_READ_DEADLINE_MS, verifyChecksums: false });
  const pages: Record<string, PageValue | null> = {};
  try {
    for (const key of keys) {
      pages[hex(key)] = await readOne(client, address, key).catch((error: unknown) => {
        onError(`final read of ${hex(key)} from n${id} failed: ${error instanceof Error ? error.message : String(error)}`);
        return null;
      });
    }
  } finally {
    client.close();
  }
  return { member: id, pages, appliedIndex: view?.appliedIndex ?? 0, digest: view?.digest ?? '' };
}

/**
 * The removal record of the final member with the highest applied index, read after the finals:
 * its Status first (the replicated eviction counters at that applied index), then the record.
 * Every removal any member had applied when its finals were read is at or below that index, so
 * it is in the record unless the bounded record trimmed it, which the checkers tell by comparing
 * the record's eviction entries with the counters. Undefined when no member answers both calls.
 */
export async function readRemovalEvidence(cluster: ChaosCluster, members: number[], onError: (line: string) => void): Promise<RemovalEvidence | undefined> {
  const views = [...(await cluster.statuses({ ids: members })).values()].sort((a, b) => b.appliedIndex - a.appliedIndex);
  for (const view of views) {
    try {
      const record = await cluster.admin(view.id).removals();
      return {
        member: view.id,
        appliedIndex: view.appliedIndex,
        oldestIndex: record.oldestIndex,
        evictedPages: view.evictedPages,
        evictedBytes: view.evictedBytes,
        expiredPages: view.expiredPages,
        entries: record.entries,
      };
    } catch (error) {
      onError(`reading the removal record from n${view.id} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return undefined;
}

async function readOne(client: KvcClient, address: string, key: Uint8Array): Promise<PageValue | null> {
  for await (const page of client.getPages(WORKLOAD_NAMESPACE, [key], { endpoint: address, allowPartial: true })) {
    return { crc32c: crc32c(page.data), bytes: page.data.byteLength };
  }
  return null;
}
