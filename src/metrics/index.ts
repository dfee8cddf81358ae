// The public surface of src/metrics: one member's Prometheus metrics and their HTTP listener.
export { MemberMetrics, METRICS_NAMESPACES_MAX, type MemberMetricsSources, type MetricsServer, type PeerCounters } from './member-metrics.js';
