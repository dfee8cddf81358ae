// Shared helpers for the node tests: a cluster of real members (real WALs and LevelDBs in a temp
// dir) in this process over the in-process transport, and page commands with checkable bytes.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { crc32c, type Command, type PageMeta } from '../../src/codec/index.js';
import { KvcError } from '../../src/errors.js';
import { ClusterNode, InProcessTransport, type NodeConfig } from '../../src/node/index.js';
import type { NodeId } from '../../src/raft/index.js';
import { sleep, eventually } from '../wait.js';

export const NS = 'test-ns';

export function pageKey(i: number): Uint8Array {
  const key = new Uint8Array(16);
  new DataView(key.buffer).setUint32(12, i);
  key.set([0x6b, 0x76, 0x63], 0);
  return key;
}

/** Deterministic page bytes for page `i`, so any copy can be checked without keeping it. */
export function pageBytes(i: number, bytes: number): Uint8Array {
  const data = new Uint8Array(bytes);
  let x = (i * 2654435761) >>> 0 || 1;
  for (let k = 0; k < bytes; k += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    data[k] = x & 0xff;
    if (k + 1 < bytes) data[k + 1] = (x >>> 8) & 0xff;
    if (k + 2 < bytes) data[k + 2] = (x >>> 16) & 0xff;
    if (k + 3 < bytes) data[k + 3] = (x >>> 24) & 0xff;
  }
  return data;
}

export function putCommand(i: number, bytes: number): Command {
  const data = pageBytes(i, bytes);
  const meta: PageMeta = {
    ns: NS,
    key: pageKey(i),
    dtype: 'u8',
    shape: [bytes],
    tokens: 16,
    bytes,
    crc32c: crc32c(data),
    createdAtMs: 1_700_000_000_000 + i,
  };
  return { op: 'put', pages: [{ meta, data }] };
}

export interface TestCluster {
  transport: InProcessTransport;
  nodes: Map<NodeId, ClusterNode>;
  dirs: Map<NodeId, string>;
  root: string;
  start(id: NodeId, overrides?: Partial<NodeConfig>): Promise<ClusterNode>;
  waitForLeader(timeoutMs?: number): Promise<ClusterNode>;
  stopAll(): Promise<void>;
}

export async function makeCluster(ids: NodeId[], base: Partial<NodeConfig> = {}): Promise<TestCluster> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'kvc-node-'));
  const transport = new InProcessTransport();
  const nodes = new Map<NodeId, ClusterNode>();
  const dirs = new Map(ids.map((id) => [id, path.join(root, `n${id}`)]));
  const cluster: TestCluster = {
    transport,
    nodes,
    dirs,
    root,
    async start(id, overrides = {}) {
      if (!dirs.has(id)) dirs.set(id, path.join(root, `n${id}`));
      const node = await ClusterNode.start({
        id,
        dataDir: dirs.get(id)!,
        initialVoters: ids,
        transport,
        tickMs: 10,
        fsync: false,
        ...base,
        ...overrides,
      });
      nodes.set(id, node);
      return node;
    },
    async waitForLeader(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        for (const node of nodes.values()) {
          if (node.fatalError === undefined && node.isLeader()) return node;
        }
        await sleep(10);
      }
      throw new Error(`no leader within ${timeoutMs} ms`);
    },
    async stopAll() {
      for (const node of nodes.values()) await node.stop().catch(() => {});
      await rm(root, { recursive: true, force: true });
    },
  };
  for (const id of ids) await cluster.start(id);
  return cluster;
}

/** Proposes through whoever leads now, retrying on leadership changes. */
export async function putWithRetry(cluster: TestCluster, command: Command, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const leader = await cluster.waitForLeader(deadline - Date.now());
      const result = await leader.propose(command, 3_000);
      if (!result.ok) throw new Error(`put refused: ${result.code} ${result.message}`);
      return;
    } catch (err) {
      lastError = err;
      await sleep(20);
    }
  }
  throw new Error(`put did not succeed within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * How page `i` (of `bytes`, as putCommand wrote it) reads from `node`: 'whole', 'wrong' (bytes
 * that are not the page's: never acceptable), 'refused' (KVC_CHECKSUM_MISMATCH: a damaged copy not
 * served), or the error's text.
 */
export function readOutcome(node: ClusterNode, i: number, bytes: number): Promise<string> {
  return node.getPage(NS, pageKey(i)).then(
    (page) => (page !== undefined && Buffer.compare(page.data, pageBytes(i, bytes)) === 0 ? 'whole' : 'wrong'),
    (error: unknown) => (error instanceof KvcError && error.code === 'KVC_CHECKSUM_MISMATCH' ? 'refused' : String(error)),
  );
}

export { sleep, eventually };
