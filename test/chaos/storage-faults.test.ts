// Proves that the storage and clock faults of `kvc chaos` (docs/CHAOS.md, "Storage faults") are
// survived: one short real run, 3 member processes, only the four storage nemeses - slow-fsync
// (seconds-long fdatasync stalls), clock-jump (a member's wall clock minutes off, then back),
// disk-full (run as root: the member's own tmpfs shrunk to its data plus 1 MiB, so it hits ENOSPC;
// else ENOSPC injected) and bit-rot (bytes flipped in a killed member's blob files, which its
// start-up scrub finds and repairs from a peer) - on a fixed seed. The verdict must be ok: 0 lost
// acknowledged puts, 0 corrupt reads, linearizable, converged, no incident; each fault is in the
// verdict's `faults` with its detail; no member process and no tmpfs outlives the run. About 50 s
// on 2 busy cores (member restarts dominate).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import type { ChaosSummary, FaultEvent } from '../../src/chaos/index.js';
import { STORAGE_NEMESIS_NAMES } from '../../src/chaos/nemesis/types.js';
import { runKvc, waitForPidsGone } from '../cli/helpers.js';
import { memberPids, tempDir } from './helpers.js';

const SEED = '2';
const RUN_TIMEOUT_MS = 150_000;

/** The harness's tmpfs mounts under `dir`: this run's only, whatever else runs chaos on this machine. */
async function chaosMounts(dir: string): Promise<string[]> {
  const mounts = await readFile('/proc/mounts', 'utf8').catch(() => '');
  return mounts
    .split('\n')
    .map((line) => line.split(' '))
    .filter(([source, mountPoint]) => source === 'kvc-chaos' && mountPoint !== undefined && mountPoint.startsWith(`${dir}/`))
    .map(([, mountPoint]) => mountPoint!);
}

t.test('kvc chaos with the storage nemeses passes its verdict', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-storage-');
  const report = path.join(dir, 'report');
  const args = ['chaos', '--nodes', '3', '--duration', '6s', '--nemesis', STORAGE_NEMESIS_NAMES.join(','), '--seed', SEED, '--json', '--report', report];
  // The run's work folder (its members' data, where the tmpfs mounts go) under this test's own.
  const run = await runKvc(args, { timeoutMs: RUN_TIMEOUT_MS, env: { TMPDIR: dir } });
  if (run.code !== 0) t.comment(`stdout:\n${run.stdout}\nstderr (end):\n${run.stderr.slice(-6000)}`);
  t.equal(run.code, 0, 'exit 0');
  const summary = JSON.parse(run.stdout) as ChaosSummary;
  t.match(summary, { ok: true, lostPuts: 0, corruptReads: 0, linearizable: true, converged: true, incidents: [] });
  for (const name of STORAGE_NEMESIS_NAMES) t.ok((summary.faults[name] ?? 0) >= 1, `${name} injected`);
  const history = await readFile(path.join(report, 'history.jsonl'), 'utf8');
  const faults = history
    .split('\n')
    .filter((line) => line.includes('"type":"fault"'))
    .map((line) => JSON.parse(line) as FaultEvent);
  const detail = (name: string): string => faults.find((f) => f.nemesis === name)?.detail ?? '';
  t.match(detail('slow-fsync'), /fdatasync of n\d.* stalls \d+ ms/);
  t.match(detail('clock-jump'), /wall clock of n\d.* jumps [+-]\d+ s, then back/);
  t.match(detail('disk-full'), /disk full: .*it hit ENOSPC/, 'the member really ran out of space');
  t.match(detail('bit-rot'), /flip \d+ bytes in .*(its scrub found|its store was damaged .* rebuilt)/, 'the member scrubbed its blob files or rebuilt its damaged store');
  t.same(await waitForPidsGone(memberPids(path.join(report, 'logs')), 5_000), [], 'no member process outlives the run');
  t.same(await chaosMounts(dir), [], 'no tmpfs outlives the run');
});
