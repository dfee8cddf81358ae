// Proves the one-command local cluster end to end with real processes on 127.0.0.1: `kvc dev
// --json` prints its one line once there is a leader; `kvc status --json` then shows that leader
// and three members with the pids kvc dev reported; `kvc put`/`get`/`lookup` round-trip a file
// (and a dtype conversion); a small `kvc bench --json` (4 concurrent lookup callers) reports every
// figure and its params, and with `--transfer shared-memory` reads through the members' shared
// arenas (params.transfer says which); `kvc snapshot`
// compacts; SIGTERM to `kvc dev` stops every member process (their pids are gone); and a second
// `kvc dev` on the same dir still has the page (the data is reused). Everything spawned is killed
// in teardown.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePortRange, pidAlive, runKvc, startDev, waitForPidsGone } from './helpers.js';

const NODES = 3;
const PAGE_BYTES = 64 * 1024;
const KEY = '6b7663746573742d6b65792d30303031';
const MISSING_KEY = '6b7663746573742d6b65792d30303032';
const STOP_TIMEOUT_MS = 15_000;

t.test('kvc dev, status, put/get/lookup, bench, SIGTERM, restart', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-dev-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const basePort = await freePortRange(NODES);
  const devArgs = ['--nodes', String(NODES), '--base-port', String(basePort), '--dir', path.join(dir, 'cluster')];
  const dev = await startDev(t, devArgs);

  const { endpoints, pids, leader } = dev.line;
  t.same(endpoints, [0, 1, 2].map((i) => `127.0.0.1:${basePort + i}`), 'endpoints on consecutive ports from --base-port');
  t.equal(pids.length, NODES);
  t.ok(pids.every(pidAlive), 'every member pid is a live process');
  t.ok(leader >= 1 && leader <= NODES, 'the line names the leader');
  const E = ['--endpoints', endpoints.join(',')];

  const status = await runKvc(['status', ...E, '--json']);
  t.equal(status.code, 0, `status exits 0 (${status.stderr})`);
  const view = JSON.parse(status.stdout) as { leader: number; members: { id: number; role: string; pid: number; term: number }[] };
  t.ok(view.leader >= 1, 'status shows a leader');
  t.equal(view.members.length, NODES, 'status shows three members');
  t.same(view.members.map((m) => m.id), [1, 2, 3]);
  t.same(view.members.map((m) => m.role).sort(), ['follower', 'follower', 'leader']);
  t.same(view.members.map((m) => m.pid).sort(), [...pids].sort(), 'status pids are the pids kvc dev reported');
  const human = await runKvc(['status', ...E]);
  t.match(human.stdout, /ID\s+ADDRESS\s+ROLE\s+TERM\s+COMMIT\s+APPLIED\s+LAG\s+PAGES\s+BYTES\s+PID/, 'a table by default');

  const payload = randomBytes(PAGE_BYTES);
  // fp16 of random bits may hold NaNs; conversion is checked by length, identity by bytes.
  const input = path.join(dir, 'page.bin');
  await writeFile(input, payload);
  const put = await runKvc(['put', ...E, '--ns', 'cli-test', '--key', KEY, '--file', input, '--dtype', 'fp16', '--shape', `2,${PAGE_BYTES / 4}`, '--json']);
  t.equal(put.code, 0, `put exits 0 (${put.stderr})`);
  t.match(JSON.parse(put.stdout), { namespace: 'cli-test', key: KEY, bytes: PAGE_BYTES, dtype: 'fp16', shape: [2, PAGE_BYTES / 4] });

  const output = path.join(dir, 'page.out');
  const get = await runKvc(['get', ...E, '--ns', 'cli-test', '--key', KEY, '--out', output, '--json']);
  t.equal(get.code, 0, `get exits 0 (${get.stderr})`);
  t.ok(Buffer.compare(await readFile(output), payload) === 0, 'get returns the bytes put');
  t.match(JSON.parse(get.stdout), { key: KEY, dtype: 'fp16', bytes: PAGE_BYTES, tokens: 16 });
  const asFp32 = await runKvc(['get', ...E, '--ns', 'cli-test', '--key', KEY, '--out', output, '--as', 'fp32', '--json']);
  t.equal(asFp32.code, 0, `get --as fp32 exits 0 (${asFp32.stderr})`);
  t.equal((await readFile(output)).byteLength, 2 * PAGE_BYTES, 'fp32 is twice the fp16 bytes');

  const lookup = await runKvc(['lookup', ...E, '--ns', 'cli-test', '--keys', `${KEY},${MISSING_KEY}`, '--json']);
  t.equal(lookup.code, 0, `lookup exits 0 (${lookup.stderr})`);
  t.same(JSON.parse(lookup.stdout), { matched: 1 }, 'lookup counts the cached prefix');
  const missing = await runKvc(['get', ...E, '--ns', 'cli-test', '--key', MISSING_KEY, '--out', output]);
  t.equal(missing.code, 1, 'get of a missing page fails');
  t.match(missing.stderr.trim(), /^kvc get: KVC_NOT_FOUND/, 'with the code, on one line');

  const bench = await runKvc(['bench', ...E, '--pages', '8', '--page-bytes', '64KiB', '--concurrency', '4', '--lookups', '20', '--lookup-concurrency', '4', '--json'], {
    timeoutMs: 60_000,
  });
  t.equal(bench.code, 0, `bench exits 0 (${bench.stderr})`);
  const figures = JSON.parse(bench.stdout) as Record<string, Record<string, number>>;
  for (const [phase, fields] of [['put', ['MBps', 'pagesPerSec']], ['get', ['MBps', 'pagesPerSec']], ['getWarm', ['MBps', 'pagesPerSec']], ['lookup', ['p50Ms', 'p99Ms']]] as const) {
    for (const field of fields) t.ok(figures[phase]![field]! > 0, `bench ${phase}.${field} is a positive number`);
  }
  t.equal((figures as unknown as { params: { lookupConcurrency: number } }).params.lookupConcurrency, 4, 'bench reports its 4 lookup callers');
  t.notMatch(bench.stderr, /\r|█/, 'no progress bar when stderr is not a terminal');
  const benchParams = (JSON.parse(bench.stdout) as { params: { transfer: string; lookupVia: string } }).params;
  t.equal(benchParams.transfer, 'grpc', 'bench reads over gRPC by default');
  t.equal(benchParams.lookupVia, 'grpc', 'and looks up over gRPC');
  const shmBench = await runKvc(
    ['bench', ...E, '--pages', '4', '--page-bytes', '64KiB', '--lookups', '20', '--get-rounds', '3', '--transfer', 'shared-memory', '--lookup-via', 'shared-memory', '--json', '--progress'],
    { timeoutMs: 60_000 },
  );
  t.equal(shmBench.code, 0, `bench --transfer shared-memory exits 0 (${shmBench.stderr})`);
  const shmParams = (JSON.parse(shmBench.stdout) as { params: { transfer: string; lookupVia: string } }).params;
  t.equal(shmParams.transfer, 'shared-memory', 'and says so in params.transfer');
  t.equal(shmParams.lookupVia, 'shared-memory', 'and in params.lookupVia');
  t.notMatch(shmBench.stderr, /read over gRPC/, 'every dev member shares its arena with a process on its host');
  t.notMatch(shmBench.stderr, /lookups go over gRPC/, "and lookups read a member's shared index");
  t.equal(shmBench.stdout.trim().split('\n').length, 1, '--progress: stdout is still the one JSON line');
  for (const phase of ['put', 'get', 'lookup']) t.match(shmBench.stderr, new RegExp(`^${phase}\\s+█+\\s+\\d+/\\d+`, 'm'), `--progress: ${phase} progress on stderr, as whole lines`);
  t.notMatch(shmBench.stderr, /\r/, 'without carriage returns off a terminal');

  const snapshot = await runKvc(['snapshot', ...E, '--json']);
  t.equal(snapshot.code, 0, `snapshot exits 0 (${snapshot.stderr})`);
  t.type((JSON.parse(snapshot.stdout) as { walFirstIndex: unknown }).walFirstIndex, 'number', 'snapshot reports the WAL first index');

  dev.process.kill('SIGTERM');
  const exit = await dev.exited;
  t.equal(exit.code, 0, 'kvc dev exits 0 after SIGTERM');
  t.same(await waitForPidsGone(pids, STOP_TIMEOUT_MS), [], 'every member process is gone');
  t.match(dev.stderr(), /kvc dev: SIGTERM: stopping 3 member\(s\)/);
  t.notMatch(dev.stderr(), /exited unexpectedly/, 'members stopped on request, not on their own');

  const again = await startDev(t, devArgs);
  const reread = await runKvc(['get', '--endpoints', again.line.endpoints.join(','), '--ns', 'cli-test', '--key', KEY, '--out', output]);
  t.equal(reread.code, 0, `get after a restart exits 0 (${reread.stderr})`);
  t.ok(Buffer.compare(await readFile(output), payload) === 0, 'a restarted kvc dev keeps the pages');
  again.process.kill('SIGTERM');
  await again.exited;
  t.same(await waitForPidsGone(again.line.pids, STOP_TIMEOUT_MS), [], 'the restarted members are gone too');
});
