// The embedded config `kvc dev` runs when given no file: N members on loopback.
import path from 'node:path';
import type { ClusterConfig } from './types.js';
import { MEMBERS_MAX, parseAddress } from './validate.js';

export interface DevClusterOptions {
  nodes: number;
  basePort: number;
  dataDir: string;
  host?: string;
}

const DEV_HOST = '127.0.0.1';

/** The embedded config of `kvc dev`: `nodes` members on consecutive loopback ports from `basePort`. */
export function devClusterConfig(o: DevClusterOptions): ClusterConfig {
  const host = o.host ?? DEV_HOST;
  if (!Number.isSafeInteger(o.nodes) || o.nodes < 1 || o.nodes > MEMBERS_MAX) {
    throw new RangeError(`nodes must be 1-${MEMBERS_MAX}, got ${o.nodes}`);
  }
  // Metrics on any free loopback port each; `kvc status --json` shows where (members[].metricsUrl).
  const members = Array.from({ length: o.nodes }, (_, i) => ({ id: i + 1, address: `${host}:${o.basePort + i}`, metricsAddress: `${host}:0` }));
  for (const member of members) {
    if (!parseAddress(member.address)) throw new RangeError(`ports ${o.basePort}..${o.basePort + o.nodes - 1} are not all valid`);
  }
  return { cluster: 'dev', dataDir: path.resolve(o.dataDir), members, raft: {}, storage: {}, compaction: {} };
}
