// Benchmark suites by name (`npm run bench -- <name>`). A later issue registers `native`.
import { raftSuite } from './raft-suite.js';
import { recoverySuite } from './recovery-suite.js';
import { storeSuite } from './store-suite.js';
import type { BenchSuite } from './types.js';

export const SUITES: ReadonlyMap<string, BenchSuite> = new Map([
  [raftSuite.name, raftSuite],
  [storeSuite.name, storeSuite],
  [recoverySuite.name, recoverySuite],
]);
