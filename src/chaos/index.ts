// The public surface of src/chaos, the chaos harness behind `kvc chaos` (docs/CHAOS.md): run a
// real cluster behind TCP proxies under a seeded fault schedule and a recorded workload, then
// check the history (checkers/) and report.
export { runChaos, HarnessError, type ChaosRunOptions, type ChaosRunResult, type CheckHistory, type Verdict } from './run.js';
export { NEMESIS_NAMES, type NemesisName } from './nemesis/index.js';
export { summarize, renderVerdictTable, writeReport, historyJsonLines, parseHistoryJsonLines } from './report.js';
export type { ChaosSummary, EvictionSummary } from './report-types.js';
export { checkHistory } from './checkers/index.js';
export { keysForBudget, WORKLOAD_KEYS, WORKLOAD_KEYS_MAX } from './workload.js';
export { TcpProxy, type BlockMode } from './proxy.js';
export type { History, Operation, FaultEvent, LeaderObservation, MemberFinalState, PageValue, RemovalEvidence, RemovalEntry } from './history.js';
