// The shape of a validated cluster config. Optional settings stay absent when the file leaves
// them out, so the member's own defaults (src/limits.ts, src/node) apply instead of a copy here.

export interface ClusterMember {
  id: number;
  /** host:port others (peers and clients) reach this member at. */
  address: string;
  /** host:port to bind, when it differs from `address` (e.g. 0.0.0.0:7401 behind a NAT). */
  listen?: string;
  /** host:port of its Prometheus /metrics listener (port 0: any free port); unset: none. */
  metricsAddress?: string;
}

export interface RaftSettings {
  tickMs?: number;
  electionTick?: number;
  heartbeatTick?: number;
}

export interface StorageSettings {
  fsync?: boolean;
  /** Capacity settings: replicated; the first leader proposes its file's values (DESIGN §6). */
  budgetBytes?: number;
  highWatermark?: number;
  lowWatermark?: number;
  evictionGraceMs?: number;
  defaultTtlMs?: number;
  walSegmentBytes?: number;
}

export interface CompactionSettings {
  entries?: number;
  walBytes?: number;
  intervalMs?: number;
  keepEntries?: number;
}

export interface MemorySettings {
  /** Bytes of the memory tier's pinned arena per member; 0 disables the tier. */
  arenaBytes?: number;
  /** Put the whole arena on this NUMA node (default: split over every node). */
  numaNode?: number;
  /**
   * Keep the arena in shared-memory files that clients on the same host read directly (the
   * same-host read path, docs/CLIENT.md). Default true.
   */
  sharedMemory?: boolean;
  /** Where those files go: a tmpfs (default /dev/shm) or a hugetlbfs mount for huge pages. */
  sharedMemoryDir?: string;
}

export interface WorkerSettings {
  /** Worker threads for CPU-heavy steps (put conversions and checksums); 0 = none. */
  threads?: number;
}

export interface ClusterConfig {
  cluster: string;
  /** As written (relative paths resolve against the working directory); default ./.kvc/<cluster>. */
  dataDir: string;
  members: ClusterMember[];
  raft: RaftSettings;
  storage: StorageSettings;
  compaction: CompactionSettings;
  /** Absent when the file has no `memory` section (the member's default arena applies). */
  memory?: MemorySettings;
  workers?: WorkerSettings;
  adminToken?: string;
  /** Absent: plaintext, allowed only when every member listens on loopback. */
  tls?: TlsSettings;
  /** Bearer tokens, stored hashed; absent or empty: CacheService is open (src/rpc/auth.ts). */
  tokens?: TokenSettings[];
  /** Absent when the file has no `log` section (`kvc start` then logs at info). */
  log?: LogSettings;
  /** Absent: no spans and no exporter (docs/TRACING.md). */
  tracing?: TracingSettings;
}

export interface TracingSettings {
  /** The OTLP/HTTP traces URL spans are POSTed to, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint: string;
  /** The resource's service.name (default kvcache-cluster). */
  serviceName?: string;
  /** Share of traces begun on a member (no sampled caller) that are recorded, 0..1 (default 1). */
  sampleRatio?: number;
}

export interface LogSettings {
  /** Lowest level a member logs: trace, debug, info, warn, error, fatal or silent. */
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
}

export interface TlsSettings {
  /**
   * tls: serve TLS and talk to peers over mutual TLS with ca/cert/key. insecure: plaintext,
   * said explicitly (needed for a member that listens beyond loopback without TLS).
   */
  mode: 'tls' | 'insecure';
  /** PEM file of the cluster CA (mode tls). Relative paths resolve against the working directory. */
  ca?: string;
  /** PEM file of the member's certificate; `{id}` is replaced by the member id (mode tls). */
  cert?: string;
  /** PEM file of the member's private key; `{id}` as in cert (mode tls). */
  key?: string;
}

export type TokenScope = 'read' | 'write' | 'admin';

export interface TokenSettings {
  /** A label for logs; not secret. */
  name?: string;
  /** sha256 of the token, 64 hex digits (`kvc token create` prints one). */
  sha256: string;
  scopes: TokenScope[];
  /** Namespace names, or "*" for every namespace. */
  namespaces: string[];
}
