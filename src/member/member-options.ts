// From a cluster config to what one member process needs to start (the MemberOptions of
// startMember). It lives with startMember, above src/config, so that src/config imports nothing
// of the member it configures.
import path from 'node:path';
import { ConfigError, type ClusterConfig, type TlsSettings } from '../config/index.js';
import { LIMITS } from '../limits.js';
import type { MemberOptions } from './member.js';

/**
 * What `startMember` needs (its MemberOptions), minus the logger, which the process running
 * the member supplies. A type-only import: loading a config does not load the server.
 */
export type MemberSettings = Omit<MemberOptions, 'logger'>;

/** Where a member run from a config puts its shared arena files unless `memory.sharedMemoryDir` says. */
export const SHARED_MEMORY_DIR_DEFAULT = '/dev/shm';

export interface MemberOverrides {
  /** The member was added to a running cluster (`kvc members add`): it starts with no membership. */
  join?: boolean;
  /** Truncate a damaged WAL instead of refusing to start (docs/WAL.md). */
  walRepair?: boolean;
  /** Source of the config, for the message when `id` is not in it. */
  source?: string;
}

/**
 * The options of member `id` of `config`. Every configured member is passed as a peer (the
 * transport needs their addresses); only a member started without `join` uses them as the
 * initial voters, and only while its data dir is empty. Its data lives in `<dataDir>/n<id>`.
 */
export function memberOptions(config: ClusterConfig, id: number, overrides: MemberOverrides = {}): MemberSettings {
  const member = config.members.find((m) => m.id === id);
  if (!member) {
    const ids = config.members.map((m) => m.id).join(', ');
    throw new ConfigError(overrides.source ?? config.cluster, [{ field: 'members', problem: `no member with id ${id} (ids: ${ids})` }]);
  }
  const node: NonNullable<MemberSettings['node']> = { ...config.raft, ...config.storage };
  if (Object.keys(config.compaction).length > 0) node.compaction = { ...config.compaction };
  if (overrides.walRepair) node.walRepair = true;
  return {
    id,
    listen: member.listen ?? member.address,
    advertise: member.address,
    members: config.members.map((m) => ({ id: m.id, address: m.address })),
    ...(overrides.join ? { join: true } : {}),
    dataDir: path.resolve(config.dataDir, `n${id}`),
    ...(Object.keys(node).length > 0 ? { node } : {}),
    memoryTier: memoryTier(config),
    ...(config.workers?.threads === undefined ? {} : { workerThreads: config.workers.threads }),
    ...(config.adminToken === undefined ? {} : { adminToken: config.adminToken }),
    ...(config.tokens === undefined || config.tokens.length === 0 ? {} : { tokens: config.tokens }),
    ...(config.tls?.mode === 'tls' ? { tls: tlsFiles(config.tls, id) } : {}),
    ...(member.metricsAddress === undefined ? {} : { metricsAddress: member.metricsAddress }),
    ...(config.tracing === undefined ? {} : { tracing: { ...config.tracing } }),
  };
}

/** The member's TLS files, `{id}` replaced by its id, as absolute paths. */
function tlsFiles(tls: TlsSettings, id: number): NonNullable<MemberSettings['tls']> {
  const file = (template: string | undefined): string => path.resolve(template!.replaceAll('{id}', String(id)));
  return { caFile: file(tls.ca), certFile: file(tls.cert), keyFile: file(tls.key) };
}

/** The memory tier of a member: the arena, on one NUMA node if asked, in shared files unless turned off. */
function memoryTier(config: ClusterConfig): NonNullable<MemberSettings['memoryTier']> {
  const memory = config.memory ?? {};
  // LIMITS.memoryTier.arenaBytes; a member started in code without a tier gets smallArenaBytes instead.
  const arenaBytes = memory.arenaBytes ?? LIMITS.memoryTier.arenaBytes;
  const shared = arenaBytes > 0 && memory.sharedMemory !== false;
  return {
    arenaBytes,
    ...(memory.numaNode === undefined ? {} : { numaNode: memory.numaNode }),
    ...(shared ? { sharedMemory: { dir: memory.sharedMemoryDir ?? SHARED_MEMORY_DIR_DEFAULT } } : {}),
  };
}
