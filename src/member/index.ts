// The public surface of src/member, the composition root: what wires a config, a node, the gRPC
// services and transport, the work pool and the metrics into one member process. Nothing below
// it imports it (docs/ARCHITECTURE.md, enforced by eslint.config.js).
export { startMember, memoryTierConfig, type MemberOptions, type MemberMemoryTier, type RunningMember } from './member.js';
export { memberOptions, SHARED_MEMORY_DIR_DEFAULT, type MemberSettings, type MemberOverrides } from './member-options.js';
export { collectGarbageIfGrown, collectWhenIdle, heapTuningFlags, tuneHeap, type HeapTuning } from './heap-tuning.js';
