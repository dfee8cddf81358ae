// Public surface of one cluster member and its transports.
export { ClusterNode } from './node.js';
export type { NodeConfig, NodeStatus } from './node-config.js';
export type { CompactionOptions } from './compaction-policy.js';
export type { NodeObserver } from './observer.js';
export type { Transport, TransportHandler } from './transport.js';
export { InProcessTransport, type TransportFaults } from './in-process-transport.js';
export { WatchRing, type WatchRingOptions, type WatchRingStats } from './watch-ring.js';
