// Proves that Ctrl-C ends a chaos run cleanly: a `kvc chaos` process that gets SIGINT while its
// members run and a fault may be active stops the run, stops every member it started (none is
// left running, a paused one included), and exits 2 (no verdict) saying it was interrupted.
import { spawn } from 'node:child_process';
import path from 'node:path';
import t from 'tap';
import { KVC_BIN, childEnv, waitForPidsGone } from '../cli/helpers.js';
import { memberPids, tempDir } from './helpers.js';

/** Members up and the first fault (after 1.5 s of workload) on: seconds, on a loaded machine more. */
const UP_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 40_000;

t.test('SIGINT stops the run and every member, exit 2', async (t) => {
  const report = path.join(tempDir(t, 'kvc-chaos-int-'), 'report');
  const args = [KVC_BIN, 'chaos', '--nodes', '3', '--duration', '60s', '--nemesis', 'pause', '--seed', '5', '--json', '--report', report];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const pid of memberPids(path.join(report, 'logs'))) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  });
  const deadline = Date.now() + UP_TIMEOUT_MS;
  while (!/pause: SIGSTOP/.test(stderr) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  t.match(stderr, /pause: SIGSTOP/, 'the run got as far as a fault');
  child.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), EXIT_TIMEOUT_MS)))]);
  clearTimeout(timer);
  if (code !== 2) t.comment(stderr.slice(-3000));
  t.equal(code, 2, 'exit 2: interrupted, no verdict');
  t.match(stderr, /interrupted/);
  const pids = memberPids(path.join(report, 'logs'));
  t.equal(pids.length, 3, 'three members had started');
  t.same(await waitForPidsGone(pids, 5_000), [], 'none of them is left');
});
