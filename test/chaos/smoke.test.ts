// The CI chaos smoke (issue 6: "CI runs a short chaos smoke on every push"): a real `kvc chaos`
// run, 3 member processes behind the harness's proxies, 30 s of workload under every nemesis on
// a fixed seed. It proves the harness end to end and the cluster under faults at once: the run
// exits 0 with ok, no lost put, no corrupt read, a linearizable history, one leader per term,
// converged members, and every fault type injected at least once; the report directory holds
// the history, the verdict and the HTML timeline, and `--recheck` reaches the same verdict from
// the saved history; and no member process outlives the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { NEMESIS_NAMES } from '../../src/chaos/nemesis/types.js';
import { pidAlive, runKvc, waitForPidsGone } from '../cli/helpers.js';
import { memberPids, tempDir } from './helpers.js';

const SEED = '20261124';
/** Members start in seconds; 30 s of faults; the first cycle may run a little past it; then checks. */
const RUN_TIMEOUT_MS = 180_000;

t.test('kvc chaos --nodes 3 --duration 30s on a fixed seed passes with every nemesis', async (t) => {
  const dir = tempDir(t, 'kvc-chaos-smoke-');
  const report = path.join(dir, 'report');
  const run = await runKvc(['chaos', '--nodes', '3', '--duration', '30s', '--seed', SEED, '--json', '--report', report, '--progress'], { timeoutMs: RUN_TIMEOUT_MS });
  const context = `stdout:\n${run.stdout}\nstderr (end):\n${run.stderr.slice(-6000)}`;
  if (run.code !== 0) t.comment(context);
  t.equal(run.code, 0, 'exit 0');
  const lines = run.stdout.trim().split('\n');
  t.equal(lines.length, 1, 'one JSON document on stdout');
  t.match(run.stderr, /^chaos\s+[█░]+\s+\d+\/30 {2}\d+ s of 30 s\n/m, "--progress: the workload's seconds on stderr, between the harness's lines");
  const summary = JSON.parse(lines[0]!) as Record<string, unknown> & { faults: Record<string, number> };
  t.match(summary, { ok: true, seed: Number(SEED), lostPuts: 0, corruptReads: 0, linearizable: true, converged: true, nodes: 3, incidents: [] });
  t.ok((summary.leadersPerTermMax as number) <= 1, 'at most one leader per term');
  t.ok((summary.operations as number) > 200, `${String(summary.operations)} operations`);
  t.ok((summary.acknowledgedPuts as number) > 20, `${String(summary.acknowledgedPuts)} acknowledged puts`);
  for (const name of NEMESIS_NAMES) t.ok((summary.faults[name] ?? 0) >= 1, `${name} injected`);
  t.ok(typeof summary.recoverySecondsMax === 'number');

  t.ok(fs.existsSync(path.join(report, 'index.html')), 'the timeline page');
  t.match(fs.readFileSync(path.join(report, 'index.html'), 'utf8'), /PASS/);
  const historyLines = fs.readFileSync(path.join(report, 'history.jsonl'), 'utf8').trim().split('\n');
  t.equal(historyLines.filter((line) => line.startsWith('{"type":"op"')).length, summary.operations, 'every operation is in the history');
  const recheck = await runKvc(['chaos', '--recheck', path.join(report, 'history.jsonl'), '--json'], { timeoutMs: 60_000 });
  t.equal(recheck.code, 0, recheck.stderr);
  t.match(JSON.parse(recheck.stdout) as unknown, { ok: true, operations: summary.operations, lostPuts: 0, linearizable: true });

  const pids = memberPids(path.join(report, 'logs'));
  t.ok(pids.length >= 3, `${pids.length} member processes were started`);
  t.same(await waitForPidsGone(pids, 5_000), [], 'no member process outlives the run');
  t.notOk(pids.some(pidAlive));
});

t.test('bad flags are usage errors (exit 2) before anything starts', async (t) => {
  const nemesis = await runKvc(['chaos', '--nemesis', 'kill,meteor']);
  t.equal(nemesis.code, 2);
  t.match(nemesis.stderr, /unknown nemesis "meteor"/);
  const nodes = await runKvc(['chaos', '--nodes', '2']);
  t.equal(nodes.code, 2);
  const missing = await runKvc(['chaos', '--recheck', path.join(os.tmpdir(), 'no-such-history.jsonl')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read/);
});
