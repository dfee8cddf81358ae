// Our cluster for the `peers` benchmark: `kvc dev --json` (3 real member processes, fsync on, as
// an operator would start them) in a temp dir on loopback ports picked here, with the byte budget
// raised so that nothing is evicted, and a client (src/client) talking to it. Stopping it is
// bounded in time: SIGTERM to `kvc dev` (which stops its members), then SIGKILL to everything.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KvcClient } from '../../src/client/index.js';
import { BENCH_BUDGET_BYTES } from './bench-cluster.js';
import { TailBuffer, forgetOnExit, freePortRange, killOnExit, pidAlive, readFirstJsonLine, stopChild } from './processes.js';

export const KVC_BIN = fileURLToPath(new URL('../../bin/kvc.js', import.meta.url));
const MEMBERS = 3;
/** `kvc dev` loads TypeScript in three processes and elects a leader; on 2 cores that takes seconds. */
const DEV_UP_TIMEOUT_MS = 60_000;
/** `kvc dev` stops its members in its own grace period (10 s), then exits; this leaves room for it. */
const DEV_STOP_GRACE_MS = 15_000;
/** A 2 MiB put on a loaded machine may take seconds; past this it is a failure, not a slow sample. */
const PUT_DEADLINE_MS = 60_000;

interface DevLine {
  endpoints: string[];
  pids: number[];
  leader: number;
}

export interface KvcDevCluster {
  endpoints: string[];
  /** The member processes (not `kvc dev` itself, which only watches them). */
  memberPids: number[];
  client: KvcClient;
  stop(): Promise<void>;
}

/**
 * Starts `kvc dev` with its data under `dir` (`members` members, 3 by default); resolves once
 * there is a leader and the budget is raised.
 */
export async function startKvcDev(dir: string, members = MEMBERS): Promise<KvcDevCluster> {
  const basePort = await freePortRange(members);
  const args = [KVC_BIN, 'dev', '--json', '--nodes', String(members), '--base-port', String(basePort), '--dir', dir];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start kvc dev');
  killOnExit(child.pid);
  const log = new TailBuffer();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  let memberPids: number[] = [];
  const stop = async (): Promise<void> => {
    await stopChild(child, DEV_STOP_GRACE_MS);
    for (const pid of memberPids) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
    for (const pid of [child.pid!, ...memberPids]) forgetOnExit(pid);
  };
  try {
    const line = await readFirstJsonLine<DevLine>(child, log, 'kvc dev', DEV_UP_TIMEOUT_MS);
    memberPids = line.pids;
    for (const pid of memberPids) killOnExit(pid);
    const client = new KvcClient({ endpoints: line.endpoints, deadlineMs: PUT_DEADLINE_MS });
    // The default budget (4 GiB) could make a long run evict; the benchmark measures puts alone.
    await client.setConfig('budgetBytes', String(BENCH_BUDGET_BYTES));
    return {
      endpoints: line.endpoints,
      memberPids,
      client,
      async stop() {
        client.close();
        await stop();
      },
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
