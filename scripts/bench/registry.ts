// Benchmark suites by name (`npm run bench -- <name>`). Later issues register `store` and `native`.
import { raftSuite } from './raft-suite.js';
import type { BenchSuite } from './types.js';

export const SUITES: ReadonlyMap<string, BenchSuite> = new Map([[raftSuite.name, raftSuite]]);
