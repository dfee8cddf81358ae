// Helpers of the `peers` benchmark kept apart from the code that spawns servers, so that they can
// be unit-tested (test/scripts/peers-helpers.test.ts): finding a binary on PATH, and the put loop
// that keeps a fixed number of requests in flight, whatever system serves them.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

/** The full path of an executable file `name` in a directory of `searchPath` (PATH by default), or undefined. */
export function findOnPath(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; try the next directory.
    }
  }
  return undefined;
}

export interface InflightPlan {
  /** Number of the first put; each put takes the next one. */
  first: number;
  inflight: number;
  putsMax: number;
  /** No new put is sent after this long (those in flight still finish). */
  durationMsMax: number;
}

export interface InflightRun {
  /** Puts acknowledged. */
  puts: number;
  bytes: number;
  /** From the first put sent to the last acknowledged. */
  elapsedMs: number;
  /** Per put, from the call to its acknowledgement. */
  latenciesMs: number[];
}

/**
 * Keeps `plan.inflight` calls of `put(i)` running until `putsMax` were started or time is up;
 * `put` resolves once the put is acknowledged and throws if it is refused (that fails the run).
 */
export async function driveInflight(put: (i: number) => Promise<void>, pageBytes: number, plan: InflightPlan): Promise<InflightRun> {
  const latenciesMs: number[] = [];
  let next = 0;
  const started = performance.now();
  const deadline = started + plan.durationMsMax;
  const worker = async (): Promise<void> => {
    while (next < plan.putsMax && performance.now() < deadline) {
      const i = plan.first + next++;
      const sent = performance.now();
      await put(i);
      latenciesMs.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: plan.inflight }, worker));
  const elapsedMs = performance.now() - started;
  return { puts: latenciesMs.length, bytes: latenciesMs.length * pageBytes, elapsedMs, latenciesMs };
}
