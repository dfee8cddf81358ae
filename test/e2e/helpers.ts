// Shared helpers for the end-to-end tests: a cluster of real `kvc start` member processes on
// loopback, each with its own data dir under a temp root, started from a generated config file;
// members can be killed with SIGKILL and restarted on the same files. Everything spawned is
// killed in teardown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { KVC_BIN, childEnv, freePortRange, runKvc } from '../cli/helpers.js';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import { sleep } from '../wait.js';

export interface ProcessCluster {
  root: string;
  configFile: string;
  addresses: Map<number, string>;
  processes: Map<number, ChildProcess>;
  endpoints(): string[];
  start(id: number, extraArgs?: string[]): Promise<void>;
  kill(id: number): Promise<void>;
  leaderId(timeoutMs?: number, exclude?: number): Promise<number>;
  teardown(): Promise<void>;
}

export async function startProcessCluster(count: number, o: { spare?: number } = {}): Promise<ProcessCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-e2e-'));
  const total = count + (o.spare ?? 0);
  const base = await freePortRange(total);
  const addresses = new Map<number, string>();
  for (let i = 1; i <= total; i++) addresses.set(i, `127.0.0.1:${base + i - 1}`);
  const configFile = path.join(root, 'cluster.yaml');
  const members = [...addresses].filter(([id]) => id <= count);
  const configText = (list: [number, string][]): string =>
    ['cluster: e2e', `dataDir: ${path.join(root, 'data')}`, 'members:', ...list.map(([id, address]) => `  - { id: ${id}, address: ${address} }`), ''].join('\n');
  await writeFile(configFile, configText(members));
  const processes = new Map<number, ChildProcess>();
  const cluster: ProcessCluster = {
    root,
    configFile,
    addresses,
    processes,
    endpoints: () => [...processes.keys()].map((id) => addresses.get(id)!),
    async start(id, extraArgs = []) {
      // A spare member (added later) gets a config that lists it too, and joins instead of bootstrapping.
      let file = configFile;
      if (id > count) {
        file = path.join(root, `cluster-${id}.yaml`);
        await writeFile(file, configText([...members, [id, addresses.get(id)!]]));
        extraArgs = ['--join', ...extraArgs];
      }
      const args = [KVC_BIN, 'start', '--config', file, '--id', String(id), ...extraArgs];
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
      child.stderr!.setEncoding('utf8').on('data', (line: string) => {
        if (process.env.KVC_E2E_VERBOSE) process.stderr.write(`[n${id}] ${line}`);
      });
      processes.set(id, child);
      await waitForServing(addresses.get(id)!, 30_000);
    },
    async kill(id) {
      const child = processes.get(id);
      processes.delete(id);
      if (child === undefined || child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
    async leaderId(timeoutMs = 15_000, exclude) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const [id] of processes) {
          if (id === exclude) continue;
          const client = new KvcClient({ endpoints: [addresses.get(id)!], deadlineMs: 1_000, retries: 0 });
          try {
            const st = await client.status(addresses.get(id)!);
            if (st.role === 'leader') return id;
          } catch {
            // Not up yet, or between roles.
          } finally {
            client.close();
          }
        }
        await sleep(50);
      }
      throw new Error(`no leader within ${timeoutMs} ms`);
    },
    async teardown() {
      for (const id of [...processes.keys()]) await cluster.kill(id);
      await rm(root, { recursive: true, force: true });
    },
  };
  try {
    for (const [id] of members) await cluster.start(id);
  } catch (error) {
    // The caller gets no cluster to tear down: its processes would outlive the test (and keep tap
    // waiting for its timeout) unless they go now.
    await cluster.teardown();
    throw error;
  }
  return cluster;
}

/** Waits until a member answers Status. */
async function waitForServing(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const client = new KvcClient({ endpoints: [address], deadlineMs: 1_000, retries: 0 });
    try {
      await client.status(address);
      return;
    } catch {
      await sleep(100);
    } finally {
      client.close();
    }
  }
  throw new Error(`member at ${address} did not serve within ${timeoutMs} ms`);
}

export const NS = 'e2e/model';

export function e2eKey(i: number): Uint8Array {
  return createHash('sha256').update(`e2e-key-${i}`).digest().subarray(0, 16);
}

/** Deterministic bytes of page `i` (fast: one sha256 block repeated with the index mixed in). */
export function e2eBytes(i: number, bytes: number): Uint8Array {
  const seed = createHash('sha256').update(`e2e-page-${i}`).digest();
  const out = new Uint8Array(bytes);
  out.set(seed.subarray(0, Math.min(seed.length, bytes)));
  // Doubling copies: the same bytes as one `set` per 32-byte block, without 65,536 of them per
  // 2 MiB page (seconds per 100 pages under coverage).
  for (let filled = seed.length; filled < bytes; filled *= 2) out.copyWithin(filled, 0, Math.min(filled, bytes - filled));
  new DataView(out.buffer).setUint32(0, i);
  return out;
}

export function e2ePage(i: number, bytes: number): PageInput {
  return { meta: { namespace: NS, key: e2eKey(i), dtype: 'u8', shape: [bytes], tokens: 16 }, data: e2eBytes(i, bytes) };
}

export function digestOf(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface WriteLoad {
  /** Indexes of the pages whose put was acknowledged, in acknowledgement order. */
  acked: number[];
  /** Stops the writers and waits for their last puts to finish. */
  stop(): Promise<void>;
}

/**
 * `writers` concurrent loops putting pages 0, 1, 2, ... of `pageBytes` through `client` until
 * stopped. Only acknowledged puts are recorded; a failed one may or may not be stored.
 */
export function startWriteLoad(client: KvcClient, pageBytes: number, writers: number): WriteLoad {
  const acked: number[] = [];
  let next = 0;
  let stopped = false;
  const writer = async (): Promise<void> => {
    while (!stopped) {
      const i = next++;
      try {
        const [result] = await client.putPages([e2ePage(i, pageBytes)]);
        if (result?.code === '') acked.push(i);
      } catch {
        // Not acknowledged: never counted.
      }
    }
  };
  const running = Array.from({ length: writers }, () => writer());
  return {
    acked,
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}

export { runKvc, sleep };
