// The benchmark suite contract: scripts/bench.ts looks suites up by name in registry.ts, awaits
// what `run` returns and prints it. Suites that touch the disk or a cluster are asynchronous; the
// in-memory ones may stay synchronous (a plain value is awaited the same way).

export interface BenchOptions {
  /** Seconds to measure each case (after its warm-up); undefined: the suite's own default. */
  secondsPerCase?: number;
  /** Seconds of warm-up before each measured case (the `peers` suite's puts); undefined: its default. */
  warmupSeconds?: number;
  /** Gibibytes of pages to fill before timing a restart (the `recovery` suite); undefined: its default. */
  gib?: number;
  /** Which part of a suite to run (the `peers` suite: "write" or "read"); undefined: all of it. */
  part?: string;
  /** Leader kills to time (the `failover` suite); undefined: its default. */
  kills?: number;
  /** Receives progress lines (to stderr), so a long suite shows it is alive without touching stdout. */
  progress: (line: string) => void;
}

export interface SuiteReport {
  suite: string;
  /** One object per measured case; the JSON document carries these as they are. */
  results: Record<string, number | string>[];
  /** A markdown table of the results, for humans (several tables separated by blank lines). */
  table: string;
  /** Anything a reader needs to interpret the numbers (setup, limits, caveats). */
  notes: string[];
  /**
   * The headline figures as one object, when the suite promises one: with `--json` and this suite
   * alone, it is printed after the document as the very last line.
   */
  summary?: Record<string, unknown>;
}

export interface BenchSuite {
  name: string;
  description: string;
  run(options: BenchOptions): SuiteReport | Promise<SuiteReport>;
}
