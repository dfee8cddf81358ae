// Benchmark suites by name (`npm run bench -- <name>`).
import { evictionSuite } from './eviction-suite.js';
import { failoverSuite } from './failover-suite.js';
import { nativeSuite } from './native.js';
import { peersSuite } from './peers-suite.js';
import { poolSuite } from './pool.js';
import { pythonSuite } from './python-suite.js';
import { raftSuite } from './raft-suite.js';
import { recoverySuite } from './recovery-suite.js';
import { storeSuite } from './store-suite.js';
import { tracingSuite } from './tracing-suite.js';
import type { BenchSuite } from './types.js';
import { watchSuite } from './watch-suite.js';

export const SUITES: ReadonlyMap<string, BenchSuite> = new Map([
  [raftSuite.name, raftSuite],
  [storeSuite.name, storeSuite],
  [recoverySuite.name, recoverySuite],
  [nativeSuite.name, nativeSuite],
  [poolSuite.name, poolSuite],
  [evictionSuite.name, evictionSuite],
  [peersSuite.name, peersSuite],
  [pythonSuite.name, pythonSuite],
  [failoverSuite.name, failoverSuite],
  [watchSuite.name, watchSuite],
  [tracingSuite.name, tracingSuite],
]);
