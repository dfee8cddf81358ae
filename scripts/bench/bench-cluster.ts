// Real cluster members for the disk-backed suites: ClusterNodes with their WAL and LevelDB under
// one root directory, talking over the in-process transport (which encodes and decodes every
// message as bytes on a wire would be), and a driver that keeps a fixed number of puts in flight
// against the leader and records each one's latency as the leader sees it.
import path from 'node:path';
import { ClusterNode, InProcessTransport, type NodeConfig } from '../../src/node/index.js';
import type { NodeId } from '../../src/raft/index.js';
import { waitFor } from './measure.js';
import type { PageGenerator } from './pages.js';

/** Generous: the benchmarks never fill a node near it, so no put is refused for space. */
export const BENCH_BUDGET_BYTES = 64 * 1024 * 1024 * 1024;
/** An election at the default tick (50 ms × 10..20 ticks) takes 0.5–1 s; this is ample. */
export const LEADER_TIMEOUT_MS = 15_000;
/** A put that takes longer than this is a failure, not a slow sample. */
const PUT_TIMEOUT_MS = 60_000;

export interface BenchCluster {
  readonly transport: InProcessTransport;
  readonly nodes: Map<NodeId, ClusterNode>;
  /** Log lines of every member (WAL openings, compactions), kept for the report's notes. */
  readonly logLines: string[];
  start(id: NodeId, overrides?: Partial<NodeConfig>): Promise<ClusterNode>;
  leader(): Promise<ClusterNode>;
  stopAll(): Promise<void>;
}

/** A cluster of `ids` under `root` (member n in root/n<id>); call `start` for each member. */
export function benchCluster(root: string, ids: NodeId[], base: Partial<NodeConfig> = {}): BenchCluster {
  const transport = new InProcessTransport();
  const nodes = new Map<NodeId, ClusterNode>();
  const logLines: string[] = [];
  return {
    transport,
    nodes,
    logLines,
    async start(id, overrides = {}) {
      const node = await ClusterNode.start({
        id,
        dataDir: path.join(root, `n${id}`),
        initialVoters: ids,
        transport,
        budgetBytes: BENCH_BUDGET_BYTES,
        proposalTimeoutMs: PUT_TIMEOUT_MS,
        logger: (line) => logLines.push(line),
        ...base,
        ...overrides,
      });
      nodes.set(id, node);
      return node;
    },
    async leader() {
      let found: ClusterNode | undefined;
      await waitFor(
        () => {
          found = [...nodes.values()].find((node) => node.isLeader());
          return found !== undefined;
        },
        LEADER_TIMEOUT_MS,
        'a leader',
      );
      return found!;
    },
    async stopAll() {
      for (const node of nodes.values()) await node.stop();
    },
  };
}

export interface PutRun {
  /** Puts acknowledged (committed by a majority and applied on the leader). */
  puts: number;
  bytes: number;
  /** From the first put sent to the last acknowledged. */
  elapsedMs: number;
  /** Per put, from `propose` to its acknowledgement. */
  latenciesMs: number[];
}

export interface PutPlan {
  /** Page number of the first put; each put takes the next one. */
  first: number;
  inflight: number;
  putsMax: number;
  /** No new put is sent after this long (those in flight still finish). */
  durationMsMax: number;
}

/** Keeps `plan.inflight` puts in flight on `leader` until `putsMax` were sent or time is up. */
export async function drivePuts(leader: ClusterNode, pages: PageGenerator, plan: PutPlan): Promise<PutRun> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + plan.durationMsMax;
  const worker = async (): Promise<void> => {
    while (next < plan.putsMax && performance.now() < deadline) {
      const command = pages.put(plan.first + next++);
      const sent = performance.now();
      const result = await leader.propose(command, PUT_TIMEOUT_MS);
      if (!result.ok) throw new Error(`put refused: ${result.code} ${result.message}`);
      latenciesMs.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: plan.inflight }, worker));
  const elapsedMs = performance.now() - started;
  return { puts: latenciesMs.length, bytes: latenciesMs.length * pages.pageBytes, elapsedMs, latenciesMs };
}
