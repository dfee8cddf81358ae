// The benchmark suite contract: scripts/bench.ts looks suites up by name in registry.ts and
// prints what they return. Later suites (store, native) implement the same interface.

export interface BenchOptions {
  /** Seconds to measure each case (after its warm-up). */
  secondsPerCase: number;
}

export interface SuiteReport {
  suite: string;
  /** One object per measured case; the JSON document carries these as they are. */
  results: Record<string, number | string>[];
  /** A markdown table of the results, for humans. */
  table: string;
  /** Anything a reader needs to interpret the numbers (setup, limits, caveats). */
  notes: string[];
}

export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): SuiteReport;
}
