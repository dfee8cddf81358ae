// Proves that `kvc chaos --budget` evicts under faults and that the checkers account for it: a
// real run, 3 member processes with a 32 MiB budget (the smallest: one largest page) over the key
// space --budget sizes (about three budgets of pages), 15 s of workload under kill, partition and
// membership (a wiped member catches up from a snapshot, removal record included) on a fixed seed.
// The run must evict (the replicated counters and the removal record both say so), acknowledged
// pages must have been evicted (so the durability checker had to account for them), and still the
// verdict is ok with 0 lost puts and a linearizable history; `--recheck` of the saved history,
// which carries the removal record, decides the same. A budget below one largest page is a usage
// error. About 60 s on 2 cores.
import path from 'node:path';
import t from 'tap';
import type { ChaosSummary } from '../../src/chaos/index.js';
import { runKvc, waitForPidsGone } from '../cli/helpers.js';
import { memberPids, tempDir } from './helpers.js';

const SEED = '20261125';
const RUN_TIMEOUT_MS = 150_000;

t.test('kvc chaos --budget 32MiB evicts under faults and loses no acknowledged, un-evicted put', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-budget-');
  const report = path.join(dir, 'report');
  const args = ['chaos', '--nodes', '3', '--duration', '15s', '--budget', '32MiB', '--nemesis', 'kill,partition,membership', '--seed', SEED, '--json', '--report', report];
  const run = await runKvc(args, { timeoutMs: RUN_TIMEOUT_MS });
  if (run.code !== 0) t.comment(`stdout:\n${run.stdout}\nstderr (end):\n${run.stderr.slice(-6000)}`);
  t.equal(run.code, 0, 'exit 0');
  const summary = JSON.parse(run.stdout) as ChaosSummary;
  t.match(summary, { ok: true, lostPuts: 0, corruptReads: 0, linearizable: true, converged: true, incidents: [] });
  const evictions = summary.evictions;
  t.ok(evictions !== null, 'the removal record was read');
  if (evictions === null) return;
  t.equal(evictions.budgetBytes, 32 * 1024 * 1024);
  t.ok(evictions.evictedPages > 0, `${evictions.evictedPages} pages evicted (Status)`);
  t.ok(evictions.removalsSeen.evicted >= evictions.evictedPages, `${evictions.removalsSeen.evicted} evictions in the removal record`);
  t.equal(evictions.recordComplete, true);
  t.ok(evictions.acknowledgedEvicted > 0, `${evictions.acknowledgedEvicted} acknowledged pages were evicted, not lost`);
  t.equal(evictions.acknowledgedUndecided, 0);
  t.equal(evictions.putsRefusedFull, 0, 'with no grace every page is evictable, so no put is refused for room');

  const recheck = await runKvc(['chaos', '--recheck', path.join(report, 'history.jsonl'), '--json'], { timeoutMs: 60_000 });
  t.equal(recheck.code, 0, recheck.stderr);
  t.match(JSON.parse(recheck.stdout) as unknown, { ok: true, lostPuts: 0, linearizable: true, evictions: { acknowledgedEvicted: evictions.acknowledgedEvicted } });
  t.same(await waitForPidsGone(memberPids(path.join(report, 'logs')), 5_000), [], 'no member process outlives the run');
});

t.test('a budget below one largest page is a usage error (exit 2) before anything starts', async (t) => {
  const small = await runKvc(['chaos', '--budget', '1MiB']);
  t.equal(small.code, 2);
  t.match(small.stderr, /at least 32\.0 MiB/);
  const garbage = await runKvc(['chaos', '--budget', '32MB']);
  t.equal(garbage.code, 2);
});
