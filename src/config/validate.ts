// Hand-written validation of a parsed cluster config (no schema library: the rules are few, and
// each message must name the field and say what was expected in an operator's words). The
// checker records every problem with its field path and keeps going, so one run reports them all.
import { LIMITS, resolveLimits } from '../limits.js';
import { SIZE_FORMS, formatBytes, parseByteSize } from './size.js';
import type { ClusterConfig, ClusterMember, CompactionSettings, LogSettings, MemorySettings, RaftSettings, StorageSettings, TlsSettings, TokenScope, TokenSettings, TracingSettings, WorkerSettings } from './types.js';

export type FieldPath = readonly (string | number)[];

export interface RawIssue {
  path: FieldPath;
  problem: string;
}

/** Cluster names become directory names, so they stay in a portable character set. */
const CLUSTER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Every write waits for a majority of voters; beyond this many, a config is more likely a mistake. */
export const MEMBERS_MAX = 15;
const TICK_MS_MAX = 10_000;
const ELECTION_TICK_MAX = 1_000;
/** A budget below one largest page could never hold a page. */
const BUDGET_BYTES_MIN = LIMITS.page.bytesMax;
/** Compacting more often than this would spend the node's time rewriting its snapshot. */
const COMPACTION_INTERVAL_MS_MIN = 1_000;
const ADMIN_TOKEN_LENGTH_MAX = 256;
/**
 * The smallest memory tier: one slab of the arena (SLAB_BYTES_DEFAULT in src/store/slab-arena.ts,
 * not imported so that reading a config does not load the store; test/config checks they agree).
 */
export const ARENA_BYTES_MIN = 4 * 1024 * 1024;
/** The largest arena the native allocator takes (PINNED_BYTES_MAX in src/native). */
export const ARENA_BYTES_MAX = 2 ** 40;
/** NUMA node ids the native allocator can bind to. */
const NUMA_NODE_ID_MAX = 1023;
/** More worker threads than this is more likely a typo than a machine. */
export const WORKER_THREADS_MAX = 256;
const PORT_MAX = 65_535;

const TOP_LEVEL_FIELDS = ['cluster', 'dataDir', 'members', 'raft', 'storage', 'compaction', 'memory', 'workers', 'adminToken', 'tls', 'tokens', 'log', 'tracing'] as const;
const TLS_FIELDS = ['mode', 'ca', 'cert', 'key'] as const;
const TLS_MODES = ['tls', 'insecure'] as const;
const TOKEN_FIELDS = ['name', 'sha256', 'scopes', 'namespaces'] as const;
const TOKEN_SCOPES = ['read', 'write', 'admin'] as const;
/** More tokens than this is more likely a generated mistake than a deployment. */
export const TOKENS_MAX = 1_024;
const SHA256_HEX_PATTERN = /^[0-9a-fA-F]{64}$/;
/** Hosts that are this machine only: plaintext is allowed there without saying so. */
const LOOPBACK_HOST_PATTERN = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[::1\]|localhost)$/;
const LOG_FIELDS = ['level'] as const;
const TRACING_FIELDS = ['otlpEndpoint', 'serviceName', 'sampleRatio'] as const;
/** A service.name longer than this is more likely a pasted mistake than a name. */
const SERVICE_NAME_LENGTH_MAX = 255;
const LOG_LEVEL_NAMES = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
const MEMBER_FIELDS = ['id', 'address', 'listen', 'metricsAddress'] as const;
const RAFT_FIELDS = ['tickMs', 'electionTick', 'heartbeatTick'] as const;
const STORAGE_FIELDS = ['fsync', 'budgetBytes', 'walSegmentBytes', 'highWatermark', 'lowWatermark', 'evictionGraceMs', 'defaultTtlMs'] as const;
/** Longest eviction grace window and default TTL (as the store's settings.ts; not imported, see ARENA_BYTES_MIN). */
const EVICTION_GRACE_MS_MAX = 24 * 60 * 60 * 1000;
const TTL_MS_MAX = 365 * 24 * 60 * 60 * 1000;
const COMPACTION_FIELDS = ['entries', 'walBytes', 'intervalMs', 'keepEntries'] as const;
const MEMORY_FIELDS = ['arenaBytes', 'numaNode', 'sharedMemory', 'sharedMemoryDir'] as const;
const WORKER_FIELDS = ['threads'] as const;

/** `members[2].address` for ['members', 2, 'address']. */
export function fieldName(path: FieldPath): string {
  let name = '';
  for (const part of path) name += typeof part === 'number' ? `[${part}]` : name === '' ? part : `.${part}`;
  return name;
}

/** How a value reads in a message: strings quoted, containers by kind. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

/** `{ host, port }` of "host:port" (a DNS name, an IPv4 address, or a bracketed IPv6 address). */
export function parseAddress(text: string): { host: string; port: number } | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > PORT_MAX) return undefined;
  return { host: match[1]!, port };
}

class Checker {
  readonly issues: RawIssue[] = [];

  fail(path: FieldPath, problem: string): undefined {
    this.issues.push({ path, problem });
    return undefined;
  }

  /** A mapping with only `allowed` keys (a misspelt key is reported, not silently ignored). */
  mapping(value: unknown, path: FieldPath, allowed: readonly string[]): Record<string, unknown> | undefined {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return this.fail(path, `expected a mapping, got ${describeValue(value)}`);
    }
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (!allowed.includes(key)) this.fail([...path, key], `unknown field (expected one of ${allowed.join(', ')})`);
    }
    return record;
  }

  integer(value: unknown, path: FieldPath, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`;
      return this.fail(path, `expected an integer ${range}, got ${describeValue(value)}`);
    }
    return value;
  }

  size(value: unknown, path: FieldPath, min: number, why = ''): number | undefined {
    const bytes = parseByteSize(value);
    if (bytes === undefined) return this.fail(path, `expected ${SIZE_FORMS}, got ${describeValue(value)}`);
    if (bytes < min) return this.fail(path, `must be at least ${formatBytes(min)}${why}, got ${formatBytes(bytes)}`);
    return bytes;
  }

  boolean(value: unknown, path: FieldPath): boolean | undefined {
    if (typeof value !== 'boolean') return this.fail(path, `expected true or false, got ${describeValue(value)}`);
    return value;
  }

  address(value: unknown, path: FieldPath): string | undefined {
    if (typeof value !== 'string' || parseAddress(value) === undefined) {
      return this.fail(path, `expected host:port (port 1-${PORT_MAX}), got ${describeValue(value)}`);
    }
    return value;
  }

  /** Runs `check` on `record[key]` when the key is present. */
  optional<T>(record: Record<string, unknown>, key: string, check: (value: unknown) => T | undefined): T | undefined {
    return record[key] === undefined ? undefined : check(record[key]);
  }
}

/** The config `raw` describes, or the problems that stop it from being one. */
export function validateClusterConfig(raw: unknown): { config?: ClusterConfig; issues: RawIssue[] } {
  const c = new Checker();
  const top = c.mapping(raw, [], TOP_LEVEL_FIELDS);
  if (!top) return { issues: c.issues };
  const cluster = checkClusterName(c, top.cluster);
  const dataDir = c.optional(top, 'dataDir', (v) =>
    typeof v === 'string' && v.trim() !== '' ? v : c.fail(['dataDir'], `expected a directory path, got ${describeValue(v)}`),
  );
  const members = checkMembers(c, top.members);
  const raft = c.optional(top, 'raft', (v) => checkRaft(c, v)) ?? {};
  const storage = c.optional(top, 'storage', (v) => checkStorage(c, v)) ?? {};
  const compaction = c.optional(top, 'compaction', (v) => checkCompaction(c, v, storage)) ?? {};
  const memory = c.optional(top, 'memory', (v) => checkMemory(c, v));
  const workers = c.optional(top, 'workers', (v) => checkWorkers(c, v));
  const adminToken = c.optional(top, 'adminToken', (v) => checkAdminToken(c, v));
  const tls = c.optional(top, 'tls', (v) => checkTls(c, v));
  const tokens = c.optional(top, 'tokens', (v) => checkTokens(c, v));
  const log = c.optional(top, 'log', (v) => checkLog(c, v));
  const tracing = c.optional(top, 'tracing', (v) => checkTracing(c, v));
  if (members !== undefined && tls === undefined && top.tls === undefined) checkPlaintextOnLoopback(c, members);
  if (c.issues.length > 0 || cluster === undefined || members === undefined) return { issues: c.issues };
  const config: ClusterConfig = {
    cluster,
    dataDir: dataDir ?? `./.kvc/${cluster}`,
    members,
    raft,
    storage,
    compaction,
    ...(memory === undefined ? {} : { memory }),
    ...(workers === undefined ? {} : { workers }),
    ...(adminToken === undefined ? {} : { adminToken }),
    ...(tls === undefined ? {} : { tls }),
    ...(tokens === undefined ? {} : { tokens }),
    ...(log === undefined ? {} : { log }),
    ...(tracing === undefined ? {} : { tracing }),
  };
  return { config, issues: [] };
}

function checkClusterName(c: Checker, value: unknown): string | undefined {
  if (value === undefined) return c.fail(['cluster'], 'required: the cluster name');
  if (typeof value !== 'string' || !CLUSTER_NAME_PATTERN.test(value)) {
    return c.fail(['cluster'], `expected 1-64 characters of [A-Za-z0-9._-] starting with a letter or digit, got ${describeValue(value)}`);
  }
  return value;
}

function checkMembers(c: Checker, value: unknown): ClusterMember[] | undefined {
  if (value === undefined) return c.fail(['members'], 'required: the list of members ({ id, address })');
  if (!Array.isArray(value) || value.length === 0 || value.length > MEMBERS_MAX) {
    return c.fail(['members'], `expected a list of 1-${MEMBERS_MAX} members, got ${describeValue(value)}`);
  }
  const members: ClusterMember[] = [];
  const seenIds = new Map<number, number>();
  const seenAddresses = new Map<string, number>();
  value.forEach((item: unknown, index) => {
    const member = checkMember(c, item, index);
    if (!member) return;
    const idTwin = seenIds.get(member.id);
    if (idTwin !== undefined) c.fail(['members', index, 'id'], `duplicate id ${member.id} (also members[${idTwin}])`);
    const addressTwin = seenAddresses.get(member.address);
    if (addressTwin !== undefined) c.fail(['members', index, 'address'], `duplicate address ${member.address} (also members[${addressTwin}])`);
    seenIds.set(member.id, index);
    seenAddresses.set(member.address, index);
    members.push(member);
  });
  return members;
}

function checkMember(c: Checker, item: unknown, index: number): ClusterMember | undefined {
  const path = ['members', index];
  const record = c.mapping(item, path, MEMBER_FIELDS);
  if (!record) return undefined;
  const id = record.id === undefined ? c.fail([...path, 'id'], 'required: a positive integer id') : c.integer(record.id, [...path, 'id'], 1);
  const address =
    record.address === undefined ? c.fail([...path, 'address'], 'required: host:port') : c.address(record.address, [...path, 'address']);
  const listen = c.optional(record, 'listen', (v) => c.address(v, [...path, 'listen']));
  const metricsAddress = c.optional(record, 'metricsAddress', (v) => checkMetricsAddress(c, v, [...path, 'metricsAddress']));
  if (id === undefined || address === undefined) return undefined;
  return { id, address, ...(listen === undefined ? {} : { listen }), ...(metricsAddress === undefined ? {} : { metricsAddress }) };
}

/** host:port like an address, except that port 0 (any free port) is allowed. */
function checkMetricsAddress(c: Checker, value: unknown, path: FieldPath): string | undefined {
  const colon = typeof value === 'string' ? value.lastIndexOf(':') : -1;
  const port = colon === -1 ? NaN : Number((value as string).slice(colon + 1));
  const ok = colon !== -1 && /^\d+$/.test((value as string).slice(colon + 1)) && port <= PORT_MAX && parseAddress(`${(value as string).slice(0, colon)}:1`) !== undefined;
  return ok ? (value as string) : c.fail(path, `expected host:port (port 0-${PORT_MAX}, 0 = any free port), got ${describeValue(value)}`);
}

function checkRaft(c: Checker, value: unknown): RaftSettings | undefined {
  const record = c.mapping(value, ['raft'], RAFT_FIELDS);
  if (!record) return undefined;
  const settings: RaftSettings = {};
  const tickMs = c.optional(record, 'tickMs', (v) => c.integer(v, ['raft', 'tickMs'], 1, TICK_MS_MAX));
  const electionTick = c.optional(record, 'electionTick', (v) => c.integer(v, ['raft', 'electionTick'], 2, ELECTION_TICK_MAX));
  const heartbeatTick = c.optional(record, 'heartbeatTick', (v) => c.integer(v, ['raft', 'heartbeatTick'], 1, ELECTION_TICK_MAX));
  if (tickMs !== undefined) settings.tickMs = tickMs;
  if (electionTick !== undefined) settings.electionTick = electionTick;
  if (heartbeatTick !== undefined) settings.heartbeatTick = heartbeatTick;
  const election = electionTick ?? LIMITS.raft.electionTick;
  const heartbeat = heartbeatTick ?? LIMITS.raft.heartbeatTick;
  if (heartbeat >= election) {
    // A leader must be heard from several times within one election timeout.
    const field = heartbeatTick === undefined ? 'electionTick' : 'heartbeatTick';
    c.fail(['raft', field], `heartbeatTick (${heartbeat}) must be below electionTick (${election})`);
  }
  return settings;
}

function checkStorage(c: Checker, value: unknown): StorageSettings | undefined {
  const record = c.mapping(value, ['storage'], STORAGE_FIELDS);
  if (!record) return undefined;
  const settings: StorageSettings = {};
  const fsync = c.optional(record, 'fsync', (v) => c.boolean(v, ['storage', 'fsync']));
  const budgetBytes = c.optional(record, 'budgetBytes', (v) =>
    c.size(v, ['storage', 'budgetBytes'], BUDGET_BYTES_MIN, ' (one largest page)'),
  );
  const walSegmentBytes = c.optional(record, 'walSegmentBytes', (v) => checkSegmentBytes(c, v));
  if (fsync !== undefined) settings.fsync = fsync;
  if (budgetBytes !== undefined) settings.budgetBytes = budgetBytes;
  if (walSegmentBytes !== undefined) settings.walSegmentBytes = walSegmentBytes;
  checkEvictionSettings(c, record, settings);
  return settings;
}

/** The capacity settings besides the budget: watermarks in (0, 1] with low < high, grace, default TTL. */
function checkEvictionSettings(c: Checker, record: Record<string, unknown>, settings: StorageSettings): void {
  const fraction = (key: 'highWatermark' | 'lowWatermark') =>
    c.optional(record, key, (v) => (typeof v === 'number' && v > 0 && v <= 1 ? v : c.fail(['storage', key], `expected a fraction in (0, 1], got ${JSON.stringify(v)}`)));
  const high = fraction('highWatermark');
  const low = fraction('lowWatermark');
  const grace = c.optional(record, 'evictionGraceMs', (v) => c.integer(v, ['storage', 'evictionGraceMs'], 0, EVICTION_GRACE_MS_MAX));
  const ttl = c.optional(record, 'defaultTtlMs', (v) => c.integer(v, ['storage', 'defaultTtlMs'], 0, TTL_MS_MAX));
  if (high !== undefined) settings.highWatermark = high;
  if (low !== undefined) settings.lowWatermark = low;
  if (grace !== undefined) settings.evictionGraceMs = grace;
  if (ttl !== undefined) settings.defaultTtlMs = ttl;
  const effectiveHigh = high ?? LIMITS.eviction.highWatermarkRatio;
  const effectiveLow = low ?? LIMITS.eviction.lowWatermarkRatio;
  if (effectiveLow >= effectiveHigh) c.fail(['storage', 'lowWatermark'], `must be below highWatermark (${effectiveLow} >= ${effectiveHigh})`);
}

/** The WAL's own relation (a segment holds one largest entry) decides, so it is stated once. */
function checkSegmentBytes(c: Checker, value: unknown): number | undefined {
  const bytes = c.size(value, ['storage', 'walSegmentBytes'], 1);
  if (bytes === undefined) return undefined;
  try {
    resolveLimits({ wal: { segmentBytes: bytes }, compaction: { triggerWalBytes: Math.max(bytes, LIMITS.compaction.triggerWalBytes) } });
  } catch (error) {
    return c.fail(['storage', 'walSegmentBytes'], `${formatBytes(bytes)} is too small: ${(error as Error).message}`);
  }
  return bytes;
}

function checkCompaction(c: Checker, value: unknown, storage: StorageSettings): CompactionSettings | undefined {
  const record = c.mapping(value, ['compaction'], COMPACTION_FIELDS);
  if (!record) return undefined;
  const settings: CompactionSettings = {};
  const entries = c.optional(record, 'entries', (v) => c.integer(v, ['compaction', 'entries'], 1));
  const segmentBytes = storage.walSegmentBytes ?? LIMITS.wal.segmentBytes;
  // Compaction deletes whole WAL segments, so a trigger below one segment would reclaim nothing.
  const walBytes = c.optional(record, 'walBytes', (v) =>
    c.size(v, ['compaction', 'walBytes'], segmentBytes, ' (one WAL segment, storage.walSegmentBytes)'),
  );
  const intervalMs = c.optional(record, 'intervalMs', (v) => c.integer(v, ['compaction', 'intervalMs'], COMPACTION_INTERVAL_MS_MIN));
  const keepEntries = c.optional(record, 'keepEntries', (v) => c.integer(v, ['compaction', 'keepEntries'], 0));
  if (entries !== undefined) settings.entries = entries;
  if (walBytes !== undefined) settings.walBytes = walBytes;
  if (intervalMs !== undefined) settings.intervalMs = intervalMs;
  if (keepEntries !== undefined) settings.keepEntries = keepEntries;
  return settings;
}

function checkMemory(c: Checker, value: unknown): MemorySettings | undefined {
  const record = c.mapping(value, ['memory'], MEMORY_FIELDS);
  if (!record) return undefined;
  const settings: MemorySettings = {};
  const arenaBytes = c.optional(record, 'arenaBytes', (v) => checkArenaBytes(c, v));
  const numaNode = c.optional(record, 'numaNode', (v) => c.integer(v, ['memory', 'numaNode'], 0, NUMA_NODE_ID_MAX));
  const sharedMemory = c.optional(record, 'sharedMemory', (v) => c.boolean(v, ['memory', 'sharedMemory']));
  const sharedMemoryDir = c.optional(record, 'sharedMemoryDir', (v) => checkAbsolutePath(c, v, ['memory', 'sharedMemoryDir']));
  if (arenaBytes !== undefined) settings.arenaBytes = arenaBytes;
  if (sharedMemory !== undefined) settings.sharedMemory = sharedMemory;
  if (sharedMemoryDir !== undefined) settings.sharedMemoryDir = sharedMemoryDir;
  // Whether the node exists is checked where the member runs (a config may serve many machines).
  if (numaNode !== undefined) settings.numaNode = numaNode;
  return settings;
}

/** An absolute directory path (whether it exists is the member's business when it starts). */
function checkAbsolutePath(c: Checker, value: unknown, field: FieldPath): string | undefined {
  if (typeof value !== 'string' || !value.startsWith('/') || value.includes('\0')) {
    return c.fail(field, `expected an absolute directory path, got ${describeValue(value)}`);
  }
  return value;
}

/** 0 (no memory tier), or one slab up to the allocator's limit. */
function checkArenaBytes(c: Checker, value: unknown): number | undefined {
  const bytes = c.size(value, ['memory', 'arenaBytes'], 0);
  if (bytes === undefined || bytes === 0) return bytes;
  if (bytes < ARENA_BYTES_MIN || bytes > ARENA_BYTES_MAX) {
    const range = `${formatBytes(ARENA_BYTES_MIN)} (one slab) to ${formatBytes(ARENA_BYTES_MAX)}`;
    return c.fail(['memory', 'arenaBytes'], `must be 0 (no memory tier) or ${range}, got ${formatBytes(bytes)}`);
  }
  return bytes;
}

function checkWorkers(c: Checker, value: unknown): WorkerSettings | undefined {
  const record = c.mapping(value, ['workers'], WORKER_FIELDS);
  if (!record) return undefined;
  const threads = c.optional(record, 'threads', (v) => c.integer(v, ['workers', 'threads'], 0, WORKER_THREADS_MAX));
  return threads === undefined ? {} : { threads };
}

function checkLog(c: Checker, value: unknown): LogSettings | undefined {
  const record = c.mapping(value, ['log'], LOG_FIELDS);
  if (!record) return undefined;
  const level = c.optional(record, 'level', (v) =>
    typeof v === 'string' && (LOG_LEVEL_NAMES as readonly string[]).includes(v)
      ? (v as NonNullable<LogSettings['level']>)
      : c.fail(['log', 'level'], `expected one of ${LOG_LEVEL_NAMES.join(', ')}, got ${describeValue(v)}`),
  );
  return level === undefined ? {} : { level };
}

function checkTracing(c: Checker, value: unknown): TracingSettings | undefined {
  const record = c.mapping(value, ['tracing'], TRACING_FIELDS);
  if (!record) return undefined;
  const otlpEndpoint = record.otlpEndpoint === undefined ? c.fail(['tracing', 'otlpEndpoint'], 'required: the OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces') : checkOtlpEndpoint(c, record.otlpEndpoint);
  const serviceName = c.optional(record, 'serviceName', (v) =>
    typeof v === 'string' && v.trim() !== '' && v.length <= SERVICE_NAME_LENGTH_MAX ? v : c.fail(['tracing', 'serviceName'], `expected a name of 1-${SERVICE_NAME_LENGTH_MAX} characters, got ${describeValue(v)}`),
  );
  const sampleRatio = c.optional(record, 'sampleRatio', (v) =>
    typeof v === 'number' && v >= 0 && v <= 1 ? v : c.fail(['tracing', 'sampleRatio'], `expected a number from 0 to 1 (the share of traces recorded), got ${describeValue(v)}`),
  );
  if (otlpEndpoint === undefined) return undefined;
  return { otlpEndpoint, ...(serviceName === undefined ? {} : { serviceName }), ...(sampleRatio === undefined ? {} : { sampleRatio }) };
}

function checkOtlpEndpoint(c: Checker, value: unknown): string | undefined {
  const problem = `expected an http:// or https:// URL of an OTLP/HTTP traces receiver (e.g. http://127.0.0.1:4318/v1/traces), got ${describeValue(value)}`;
  if (typeof value !== 'string') return c.fail(['tracing', 'otlpEndpoint'], problem);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return c.fail(['tracing', 'otlpEndpoint'], problem);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return c.fail(['tracing', 'otlpEndpoint'], problem);
  return value;
}

function checkAdminToken(c: Checker, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0 || value.length > ADMIN_TOKEN_LENGTH_MAX || /\s/.test(value)) {
    // The token itself is a secret: the message says what is wrong without echoing it.
    const got = typeof value === 'string' ? `a string of ${value.length} characters` : describeValue(value);
    return c.fail(['adminToken'], `expected 1-${ADMIN_TOKEN_LENGTH_MAX} characters without spaces, got ${got}`);
  }
  return value;
}

/** Whether a member binding `hostPort` is reachable from this machine only. */
export function isLoopbackAddress(hostPort: string): boolean {
  const parsed = parseAddress(hostPort);
  return parsed !== undefined && LOOPBACK_HOST_PATTERN.test(parsed.host);
}

/** Without a tls section, every member must listen on loopback: plaintext beyond it must be asked for. */
function checkPlaintextOnLoopback(c: Checker, members: ClusterMember[]): void {
  members.forEach((member, index) => {
    const field = member.listen === undefined ? 'address' : 'listen';
    const bound = member.listen ?? member.address;
    if (isLoopbackAddress(bound)) return;
    c.fail(['members', index, field], `${bound} is not a loopback address: configure tls (ca, cert, key), or say tls: { mode: insecure } to serve plaintext there`);
  });
}

function checkTls(c: Checker, value: unknown): TlsSettings | undefined {
  const record = c.mapping(value, ['tls'], TLS_FIELDS);
  if (!record) return undefined;
  const files = { ca: record.ca, cert: record.cert, key: record.key };
  const given = Object.values(files).some((v) => v !== undefined);
  const mode = c.optional(record, 'mode', (v) =>
    (TLS_MODES as readonly unknown[]).includes(v) ? (v as TlsSettings['mode']) : c.fail(['tls', 'mode'], `expected one of ${TLS_MODES.join(', ')}, got ${describeValue(v)}`),
  ) ?? (given ? 'tls' : undefined);
  if (mode === undefined) return c.fail(['tls'], 'expected ca, cert and key (or mode: insecure)');
  if (mode === 'insecure') {
    if (given) return c.fail(['tls', 'mode'], 'insecure serves plaintext: leave out ca, cert and key, or set mode: tls');
    return { mode };
  }
  const settings: TlsSettings = { mode };
  for (const key of ['ca', 'cert', 'key'] as const) {
    const v = files[key];
    if (typeof v !== 'string' || v.trim() === '' || v.includes('\0')) c.fail(['tls', key], `required with mode tls: a PEM file path, got ${describeValue(v)}`);
    else settings[key] = v;
  }
  return settings;
}

function checkTokens(c: Checker, value: unknown): TokenSettings[] | undefined {
  if (!Array.isArray(value) || value.length > TOKENS_MAX) return c.fail(['tokens'], `expected a list of at most ${TOKENS_MAX} tokens, got ${describeValue(value)}`);
  const tokens: TokenSettings[] = [];
  value.forEach((item: unknown, index) => {
    const path = ['tokens', index];
    const record = c.mapping(item, path, TOKEN_FIELDS);
    if (!record) return;
    const name = c.optional(record, 'name', (v) => (typeof v === 'string' && v !== '' ? v : c.fail([...path, 'name'], `expected a label, got ${describeValue(v)}`)));
    // A plaintext token here would be a leaked secret: only its sha256 is accepted.
    const sha256 = typeof record.sha256 === 'string' && SHA256_HEX_PATTERN.test(record.sha256) ? record.sha256.toLowerCase() : c.fail([...path, 'sha256'], 'required: the sha256 of the token, 64 hex digits (kvc token create prints one); the token itself never goes in the config');
    const scopes = stringList(c, record.scopes, [...path, 'scopes'], `a list of ${TOKEN_SCOPES.join(', ')}`, (s) => (TOKEN_SCOPES as readonly string[]).includes(s));
    const namespaces = stringList(c, record.namespaces, [...path, 'namespaces'], 'a list of namespace names, or ["*"] for all', (s) => s !== '');
    if (sha256 === undefined || scopes === undefined || namespaces === undefined) return;
    tokens.push({ ...(name === undefined ? {} : { name }), sha256, scopes: scopes as TokenScope[], namespaces });
  });
  return tokens;
}

function stringList(c: Checker, value: unknown, path: FieldPath, expected: string, ok: (item: string) => boolean): string[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && ok(v))) {
    return c.fail(path, `expected ${expected}, got ${describeValue(value)}`);
  }
  return [...new Set(value as string[])];
}
