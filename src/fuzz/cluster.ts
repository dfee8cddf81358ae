// A 3-member cluster in this process for the fuzzer (scripts/fuzz.ts and its test): real members
// (startMember: gRPC on 127.0.0.1 with OS-chosen ports, WAL and LevelDB in a temp directory),
// with an admin token so the fuzzer's well-formed destructive admin calls are refused.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startMember, type RunningMember } from '../member/index.js';
import { freeLoopbackPorts } from '../config/index.js';

export const FUZZ_ADMIN_TOKEN = 'fuzz-admin-token';
const LEADER_TIMEOUT_MS = 15_000;
const LEADER_POLL_MS = 20;

export interface FuzzCluster {
  endpoints: string[];
  members: RunningMember[];
  adminToken: string;
  /** Whether the member at `endpoint` stopped or hit a fatal error. */
  memberFailed(endpoint: string): boolean;
  stop(): Promise<void>;
}

export async function startFuzzCluster(o: { nodes?: number; log?: (line: string) => void } = {}): Promise<FuzzCluster> {
  const ids = Array.from({ length: o.nodes ?? 3 }, (_, i) => i + 1);
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-fuzz-'));
  const ports = await freeLoopbackPorts(ids.length);
  const members = ids.map((id, i) => ({ id, address: `127.0.0.1:${ports[i]}` }));
  const started: RunningMember[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(started.map((m) => m.stop().catch(() => undefined)));
    await rm(root, { recursive: true, force: true });
  };
  try {
    for (const m of members) {
      started.push(
        await startMember({
          id: m.id,
          listen: m.address,
          members,
          dataDir: path.join(root, `n${m.id}`),
          adminToken: FUZZ_ADMIN_TOKEN,
          workerThreads: 0,
          node: { fsync: false },
          logger: o.log ?? (() => undefined),
        }),
      );
    }
    const deadline = Date.now() + LEADER_TIMEOUT_MS;
    while (!started.some((m) => m.node.isLeader())) {
      if (Date.now() > deadline) throw new Error(`no leader within ${LEADER_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, LEADER_POLL_MS));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const byEndpoint = new Map(started.map((m) => [m.address, m]));
  return {
    endpoints: started.map((m) => m.address),
    members: started,
    adminToken: FUZZ_ADMIN_TOKEN,
    memberFailed: (endpoint) => {
      const member = byEndpoint.get(endpoint);
      return member !== undefined && (member.node.stopped || member.node.fatalError !== undefined);
    },
    stop,
  };
}
