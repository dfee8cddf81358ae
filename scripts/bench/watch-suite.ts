// The `watch` benchmark (issue 16): how many cache events one member delivers to 1 and to 100
// Watch streams while puts run, and what serving them costs the put path. One member
// (startMember: the real gRPC server, WAL and LevelDB with fsync on) in this process takes puts
// of 4 KiB pages with a fixed number in flight, proposed on the node directly; the watchers are
// KvcClient.watch streams over loopback in a child process (watch-clients.ts), so decoding their
// feeds does not count against the member (on 2 cores it still competes for the machine). The
// cases alternate (0, 1, 100 watchers, then again) in the same run, so the ratios compare like
// with like on a shared machine.
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMember, type RunningMember } from '../../src/member/index.js';
import { drivePuts } from './bench-cluster.js';
import { KIB, round, waitFor, withTempDir } from './measure.js';
import { PageGenerator } from './pages.js';
import { freePortRange } from './ports.js';
import type { BenchOptions, BenchSuite, SuiteReport } from './types.js';

const PAGE_BYTES = 4 * KIB;
const INFLIGHT = 16;
const PUTS_MAX = 200_000;
const WATCHER_COUNTS = [0, 1, 100];
const ROUNDS = 2;
const DEFAULT_SECONDS = 5;
const WATCH_CLIENTS = fileURLToPath(new URL('./watch-clients.ts', import.meta.url));

/** Stored events the child's watchers have received so far (0 without a child). */
async function countEvents(child: ChildProcess | undefined): Promise<number> {
  if (child === undefined) return 0;
  const answer = once(child, 'message') as Promise<[{ events: number }]>;
  child.send({ count: true });
  return (await answer)[0].events;
}

interface Measured {
  watchers: number;
  putsPerSecond: number;
  /** Events delivered to all watchers together, per second of the put window. */
  eventsPerSecond: number;
}

async function measure(watchers: number, durationMs: number): Promise<Measured> {
  return withTempDir('kvc-bench-watch-', async (root) => {
    const port = await freePortRange(1);
    const address = `127.0.0.1:${port}`;
    const member: RunningMember = await startMember({ id: 1, listen: address, members: [{ id: 1, address }], dataDir: path.join(root, 'm1'), logger: () => undefined });
    let child: ChildProcess | undefined;
    try {
      await waitFor(() => member.node.isLeader(), 15_000, 'the member to lead');
      if (watchers > 0) {
        child = fork(WATCH_CLIENTS, [address, String(watchers)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        await once(child, 'message');
      }
      const before = await countEvents(child);
      const run = await drivePuts(member.node, new PageGenerator(PAGE_BYTES), { first: 0, inflight: INFLIGHT, putsMax: PUTS_MAX, durationMsMax: durationMs });
      const delivered = (await countEvents(child)) - before;
      return { watchers, putsPerSecond: (run.puts * 1000) / run.elapsedMs, eventsPerSecond: (delivered * 1000) / run.elapsedMs };
    } finally {
      if (child !== undefined && child.exitCode === null) {
        child.send({ stop: true });
        await once(child, 'exit');
      }
      await member.stop();
    }
  });
}

async function run(options: BenchOptions): Promise<SuiteReport> {
  const durationMs = (options.secondsPerCase ?? DEFAULT_SECONDS) * 1000;
  const measured: Measured[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const watchers of WATCHER_COUNTS) {
      options.progress(`watch: round ${r + 1}, ${watchers} watchers`);
      measured.push(await measure(watchers, durationMs));
    }
  }
  const mean = (watchers: number, pick: (m: Measured) => number): number => {
    const of = measured.filter((m) => m.watchers === watchers);
    return of.reduce((sum, m) => sum + pick(m), 0) / of.length;
  };
  const basePuts = mean(0, (m) => m.putsPerSecond);
  const results = WATCHER_COUNTS.map((watchers) => ({
    watchers,
    putsPerSecond: measured.filter((m) => m.watchers === watchers).map((m) => round(m.putsPerSecond, 0)).join(' / '),
    putsOverNoWatchers: round(mean(watchers, (m) => m.putsPerSecond) / basePuts, 3),
    eventsPerSecond: measured.filter((m) => m.watchers === watchers).map((m) => round(m.eventsPerSecond, 0)).join(' / '),
    eventsPerSecondPerWatcher: watchers === 0 ? 0 : round(mean(watchers, (m) => m.eventsPerSecond) / watchers, 0),
  }));
  const table = [
    '| watchers | puts/s (round 1 / 2) | puts vs 0 watchers | events/s delivered, all watchers (round 1 / 2) | events/s per watcher |',
    '|---:|---:|---:|---:|---:|',
    ...results.map((r) => `| ${r.watchers} | ${r.putsPerSecond} | ${r.putsOverNoWatchers} | ${r.eventsPerSecond} | ${r.eventsPerSecondPerWatcher} |`),
  ].join('\n');
  return {
    suite: 'watch',
    results,
    table,
    notes: [
      `one member (fsync on), puts of ${PAGE_BYTES / KIB} KiB pages with ${INFLIGHT} in flight for ${durationMs / 1000} s per case; one stored event per put`,
      'watchers are KvcClient.watch streams over loopback in a child process; "events/s delivered" counts what they received during the put window',
    ],
  };
}

export const watchSuite: BenchSuite = { name: 'watch', description: 'cache events delivered to 1 and 100 watchers while puts run, and the cost to puts', run };
