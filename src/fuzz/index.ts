// The RPC fuzzer (docs/FUZZ.md): mutated requests of every method against a live cluster.
export { runFuzz, type FuzzOptions, type FuzzSummary, type MethodTally } from './fuzz.js';
export { startFuzzCluster, FUZZ_ADMIN_TOKEN, type FuzzCluster } from './cluster.js';
export { fuzzMethods, forgedMemberBatch, UNKNOWN_SENDER_MIN, type FuzzMethod, type SeedContext } from './methods.js';
export { mutateMessage, parseFields, encodeVarint, WIRE_MUTATIONS, type WireMutation } from './wire.js';
