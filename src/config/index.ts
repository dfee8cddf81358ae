// Cluster configs: the YAML file `kvc start --config FILE --id ID` reads, validated with errors
// that name the bad field (`local-3node.yaml: members[2].address: expected host:port, got "foo"`).
//
// Format (every section but `cluster` and `members` is optional; sizes take B/KiB/MiB/GiB/TiB):
//
//   cluster: local-3node                  # 1-64 chars of [A-Za-z0-9._-]
//   dataDir: ./.kvc/local-3node           # default ./.kvc/<cluster>, relative to the working dir;
//                                         # member N keeps its WAL and store in <dataDir>/nN
//   members:                              # the initial voters, 1-15, unique ids and addresses
//     - { id: 1, address: 127.0.0.1:7401 }                    # address: what peers/clients dial
//     - { id: 2, address: 10.0.0.2:7401, listen: 0.0.0.0:7401 } # listen: what to bind, if different
//     - { id: 3, address: 127.0.0.1:7403, metricsAddress: 127.0.0.1:9403 } # Prometheus GET /metrics (port 0: any)
//   raft: { tickMs: 50, electionTick: 10, heartbeatTick: 1 }  # heartbeatTick < electionTick
//   storage: { fsync: true, budgetBytes: 4GiB, walSegmentBytes: 64MiB }
//   compaction: { entries: 10000, walBytes: 64MiB, intervalMs: 300000, keepEntries: 1000 }
//   memory: { arenaBytes: 256MiB, numaNode: 0 }  # memory tier per member: pinned arena of hot pages
//                                         # (default 256MiB; 0 = none, at least 4MiB otherwise);
//                                         # numaNode: all on one node (default: split over all)
//   memory: { sharedMemory: true, sharedMemoryDir: /dev/shm }  # arena in shared-memory files that
//                                         # same-host clients read (default on; a hugetlbfs mount
//                                         # of 2 MiB pages for huge pages; false = private)
//   workers: { threads: 2 }               # threads for put conversions/checksums (0 = inline)
//   adminToken: s3cret                    # AdminService calls then need `authorization: Bearer s3cret`
//                                         # (older form; a token with the admin scope does the same)
//   tls:                                  # TLS on the member port, mutual TLS between members
//     ca: certs/ca.pem                    # the cluster CA (kvc certs init); paths relative to the
//     cert: certs/member-{id}.pem         # working dir; {id} is the member id; a member's cert
//     key: certs/member-{id}-key.pem      # names its id as URI SAN kvc://member/<id> (kvc certs issue)
//                                         # and the addresses clients dial; reloaded on SIGHUP
//   tls: { mode: insecure }               # plaintext beyond loopback, said explicitly (without a
//                                         # tls section every member must listen on loopback)
//   tokens:                               # bearer tokens for CacheService and AdminService, stored
//     - { name: worker, sha256: <64 hex>, scopes: [read, write], namespaces: ["*"] }   # as sha256
//                                         # (kvc token create); none: CacheService is open
//   log: { level: info }                  # a member's lowest log level (kvc start --log-level overrides)
//
// Unknown fields are errors (a misspelt `fsynk: false` must not pass silently). A member added to
// a running cluster is listed in the file too, and started with `kvc start --join`.
export { loadClusterConfig, parseClusterConfig, renderClusterConfig, CONFIG_FILE_BYTES_MAX } from './cluster-config.js';
export { ConfigError, isConfigError, formatIssue, type ConfigIssue } from './config-error.js';
export { devClusterConfig, type DevClusterOptions } from './dev-config.js';
export { parseAddress, isLoopbackAddress, TOKENS_MAX, MEMBERS_MAX, ARENA_BYTES_MIN, ARENA_BYTES_MAX, WORKER_THREADS_MAX } from './validate.js';
export { parseByteSize, formatBytes, SIZE_FORMS } from './size.js';
export { freeLoopbackPorts, reserveLoopbackPorts, portFree, portRange } from './free-ports.js';
export type { ClusterConfig, ClusterMember, RaftSettings, StorageSettings, CompactionSettings, MemorySettings, WorkerSettings, TlsSettings, TokenSettings, TokenScope } from './types.js';
