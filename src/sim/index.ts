// Public surface of the deterministic Raft cluster simulator (see simulation.ts).
export { runSeed, runSeeds, runSeedWithTraceOnViolation, addStats, type BatchOptions, type BatchSummary } from './run.js';
export { Simulation } from './simulation.js';
export { SafetyChecker, InvariantViolation, type TermLookup, type CheckerOptions } from './checkers.js';
export { Prng } from './prng.js';
export { SimNetwork, CALM_NOISE, type NoiseSettings, type Envelope } from './network.js';
export { FAULT_KINDS, LIVENESS_TIMEOUTS_MAX } from './faults.js';
export { SimStateMachine } from './state-machine.js';
export { emptyStats, type RaftModule, type SimOptions, type SimParams, type SimResult, type SimStats, type SimViolation } from './types.js';
