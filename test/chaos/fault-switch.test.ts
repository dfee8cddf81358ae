// Proves the harness catches a cluster that breaks its promise, using the members' test-only
// fault switch KVC_TEST_UNSAFE_ACK=1 (the harness passes its environment on to the members): a
// member then answers every proposal `ok` as soon as it is proposed, before it is durable,
// committed or applied. Two things go wrong, and the checkers see both: a put that the state
// machine will refuse (the key already holds another page: first writer wins) is reported
// stored, and a put acknowledged on a side of a partition that cannot reach a majority is thrown
// away when a new leader on the other side takes over (the `partition` nemesis, seeded, provides
// that window; each lasts about an election timeout). With 8 clients over 24 keys the first kind
// alone shows up within seconds of any run, so the test is reliable by construction. The run
// must exit 1 with ok false and lost puts or a non-linearizable history.
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import { runKvc } from '../cli/helpers.js';
import { tempDir } from './helpers.js';

const RUN_TIMEOUT_MS = 120_000;

t.test('acknowledging before commit is caught: lost puts or a non-linearizable history', async (t) => {
  const report = path.join(tempDir(t, 'kvc-chaos-unsafe-'), 'report');
  const run = await runKvc(['chaos', '--nodes', '3', '--duration', '10s', '--nemesis', 'partition', '--seed', '3', '--json', '--report', report], {
    timeoutMs: RUN_TIMEOUT_MS,
    env: { KVC_TEST_UNSAFE_ACK: '1' },
  });
  const context = `stdout:\n${run.stdout}\nstderr (end):\n${run.stderr.slice(-4000)}`;
  if (run.code !== 1) t.comment(context);
  t.equal(run.code, 1, 'exit 1: a verdict, not ok');
  const summary = JSON.parse(run.stdout) as { ok: boolean; lostPuts: number; linearizable: boolean | string; faults: { partition: number } };
  t.equal(summary.ok, false);
  t.ok(summary.faults.partition >= 1, 'the partition was injected');
  t.ok(summary.lostPuts > 0 || summary.linearizable === false, `caught: lostPuts ${summary.lostPuts}, linearizable ${String(summary.linearizable)}`);
  t.match(fs.readFileSync(path.join(report, 'logs', 'n1.log'), 'utf8'), /TEST-ONLY fault switch on/, 'the members ran with the switch');
});
