// A 3-member etcd for the `peers` benchmark: Debian's `etcd` binary (package etcd-server), each
// member in its own directory under a temp dir, on loopback ports picked here, stopped (SIGTERM,
// then SIGKILL) and removed afterwards. The suite never installs etcd: if the binary is not on
// PATH (peers-helpers.ts `findOnPath`), the suite says so and measures ours alone.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/client/index.js';
import { MIB, GIB, waitFor } from './measure.js';
import { TailBuffer, forgetOnExit, freePortRange, killOnExit, stopChild } from './processes.js';

const MEMBERS = 3;
/** Two ports per member: clients and peers. */
const PORTS_PER_MEMBER = 2;
/**
 * etcd's default backend quota (2 GiB) would fill within a run of 1 MiB values and turn every put
 * into "database space exceeded"; 8 GiB is far above what a bounded run writes.
 */
const QUOTA_BACKEND_BYTES = 8 * GIB;
/** etcd refuses requests above 1.5 MiB by default; a 1 MiB value and its envelope must pass. */
const MAX_REQUEST_BYTES = 3 * MIB;
/** Starting three members and electing a leader takes a few seconds on a busy machine. */
const READY_TIMEOUT_MS = 30_000;
/** A member stops in well under a second; after this it is killed. */
export const ETCD_STOP_GRACE_MS = 10_000;
const STATUS_DEADLINE_MS = 2_000;

export interface EtcdMember {
  name: string;
  clientUrl: string;
  child: ChildProcess;
  log: TailBuffer;
  /** A client bound to this member alone (status, and puts when it leads). */
  client: Etcd3;
}

export interface EtcdCluster {
  members: EtcdMember[];
  pids(): number[];
  /** The member that leads now (the suite sends puts there, as our client does to our leader). */
  leader(): Promise<EtcdMember>;
  /** Raft applied index of each member, in member order. */
  appliedIndexes(): Promise<bigint[]>;
  stop(): Promise<void>;
}

function memberArgs(dir: string, index: number, basePort: number): { name: string; clientUrl: string; args: string[]; peerUrl: string } {
  const name = `m${index + 1}`;
  const clientUrl = `http://127.0.0.1:${basePort + PORTS_PER_MEMBER * index}`;
  const peerUrl = `http://127.0.0.1:${basePort + PORTS_PER_MEMBER * index + 1}`;
  const args = [
    `--name=${name}`,
    `--data-dir=${path.join(dir, name)}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    '--initial-cluster-state=new',
    '--initial-cluster-token=kvc-bench-peers',
    `--quota-backend-bytes=${QUOTA_BACKEND_BYTES}`,
    `--max-request-bytes=${MAX_REQUEST_BYTES}`,
    '--logger=zap',
    '--log-outputs=stderr',
    '--log-level=warn',
  ];
  return { name, clientUrl, peerUrl, args };
}

/** Every member's client, with our client's channel options (16 MiB flow-control window) for a like-for-like client. */
function memberClient(clientUrl: string): Etcd3 {
  return new Etcd3({ hosts: clientUrl, grpcOptions: { ...CLIENT_CHANNEL_OPTIONS }, dialTimeout: READY_TIMEOUT_MS });
}

/** Starts three members in `dir` and resolves once all of them agree on a leader. */
export async function startEtcd(binary: string, dir: string): Promise<EtcdCluster> {
  const basePort = await freePortRange(MEMBERS * PORTS_PER_MEMBER);
  const specs = Array.from({ length: MEMBERS }, (_, i) => memberArgs(dir, i, basePort));
  const initialCluster = `--initial-cluster=${specs.map((s) => `${s.name}=${s.peerUrl}`).join(',')}`;
  const members: EtcdMember[] = specs.map((s) => {
    const child = spawn(binary, [...s.args, initialCluster], { stdio: ['ignore', 'ignore', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not start etcd member ${s.name}`);
    killOnExit(child.pid);
    const log = new TailBuffer();
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
    return { name: s.name, clientUrl: s.clientUrl, child, log, client: memberClient(s.clientUrl) };
  });
  const cluster = etcdCluster(members);
  try {
    await waitFor(async () => (await leaderIds(members)).every((id) => id !== undefined && id !== '0'), READY_TIMEOUT_MS, 'etcd to elect a leader');
  } catch (error) {
    const logs = members.map((m) => `${m.name}: ${m.log.text()}`).join('\n');
    await cluster.stop();
    throw new Error(`${(error as Error).message}\n${logs}`, { cause: error });
  }
  return cluster;
}

/** One member's view, or undefined while it does not answer (starting, or busy past the deadline). */
async function status(member: EtcdMember): Promise<{ memberId: string; leader: string; appliedIndex: bigint } | undefined> {
  if (member.child.exitCode !== null) throw new Error(`etcd member ${member.name} exited (${member.child.exitCode}): ${member.log.text()}`);
  try {
    const s = await member.client.maintenance.status({ deadline: Date.now() + STATUS_DEADLINE_MS });
    return { memberId: s.header.member_id, leader: s.leader, appliedIndex: BigInt(s.raftAppliedIndex) };
  } catch {
    return undefined;
  }
}

async function leaderIds(members: EtcdMember[]): Promise<(string | undefined)[]> {
  return Promise.all(members.map(async (m) => (await status(m))?.leader));
}

function etcdCluster(members: EtcdMember[]): EtcdCluster {
  return {
    members,
    pids: () => members.map((m) => m.child.pid!),
    async leader() {
      const statuses = await Promise.all(members.map(status));
      const leaderId = statuses.find((s) => s !== undefined)?.leader;
      const index = statuses.findIndex((s) => s !== undefined && s.memberId === leaderId);
      if (index === -1) throw new Error('no etcd member reports itself as the leader');
      return members[index]!;
    },
    async appliedIndexes() {
      const statuses = await Promise.all(members.map(status));
      return statuses.map((s) => s?.appliedIndex ?? -1n);
    },
    async stop() {
      for (const m of members) m.client.close();
      await Promise.all(
        members.map(async (m) => {
          await stopChild(m.child, ETCD_STOP_GRACE_MS);
          forgetOnExit(m.child.pid!);
        }),
      );
    },
  };
}
