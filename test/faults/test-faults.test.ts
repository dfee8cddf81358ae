// Proves the test fault switch of a member process (src/faults) and the steady wall clock
// (src/clock.ts) in this process: the control file's fields are parsed within bounds and a bad
// file changes nothing; a clock offset shifts Date.now() and new Date() and clearing it restores
// them, while steadyWallClockMs() - what TTL, pin and eviction decisions use - does not jump; a
// sync delay stalls beforeSync; the ENOSPC fault makes a real WAL save fail with ENOSPC; and
// `kvc start` refuses --unsafe-test-faults without KVC_TEST_FAULTS. The chaos run that uses the
// switch against live members is test/chaos/storage-faults.test.ts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { steadyWallClockMs } from '../../src/clock.js';
import { beforeSync, beforeWrite, parseTestFaults, setTestFaults, testFaults, watchTestFaults } from '../../src/faults/index.js';
import { nodeFileLayer } from '../../src/wal/index.js';
import { runKvc } from '../cli/helpers.js';

const MINUTES_10 = 600_000;

t.afterEach(() => setTestFaults({}));

t.test('the control file: documented fields within bounds, anything else refused', async (t) => {
  t.same(parseTestFaults(''), { syncDelayMs: 0, clockOffsetMs: 0, enospc: false }, 'an empty file: no faults');
  t.same(parseTestFaults('{"syncDelayMs":3000,"clockOffsetMs":-300000,"enospc":true}'), { syncDelayMs: 3000, clockOffsetMs: -300000, enospc: true });
  t.throws(() => parseTestFaults('[]'), TypeError);
  t.throws(() => parseTestFaults('{"syncDelayMs":-1}'), RangeError);
  t.throws(() => parseTestFaults('{"syncDelayMs":3600000}'), RangeError, 'a stall of an hour is a typo');
  t.throws(() => parseTestFaults('{"clockOffsetMs":1.5}'), RangeError);
  t.throws(() => parseTestFaults('{"enospc":"yes"}'), TypeError);
  t.throws(() => parseTestFaults('{not json'), SyntaxError);
});

t.test('a clock jump moves Date but not the steady wall clock', async (t) => {
  const steadyBefore = steadyWallClockMs();
  setTestFaults({ clockOffsetMs: MINUTES_10 });
  t.ok(Date.now() - steadyWallClockMs() > MINUTES_10 - 5_000, 'Date.now() jumped forward');
  t.ok(new Date().getTime() - steadyWallClockMs() > MINUTES_10 - 5_000, 'new Date() too');
  t.equal(new Date(0).getTime(), 0, 'a date built from a value is that date');
  t.ok(Math.abs(steadyWallClockMs() - steadyBefore) < 5_000, 'the steady clock did not jump');
  setTestFaults({ clockOffsetMs: -MINUTES_10 });
  t.ok(steadyWallClockMs() - Date.now() > MINUTES_10 - 5_000, 'and backward');
  setTestFaults({});
  t.ok(Math.abs(Date.now() - steadyWallClockMs()) < 5_000, 'cleared: the real clock again');
  t.equal(Date.name, 'Date');
});

t.test('a sync delay stalls beforeSync; ENOSPC fails a real WAL write', async (t) => {
  setTestFaults({ syncDelayMs: 60 });
  const started = performance.now();
  await beforeSync();
  t.ok(performance.now() - started >= 50, 'beforeSync waited out the delay');
  setTestFaults({ enospc: true });
  t.throws(() => beforeWrite('a test'), { code: 'ENOSPC' });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const fd = await nodeFileLayer.open(path.join(dir, 'f'), 'create');
  t.teardown(() => nodeFileLayer.close(fd));
  await t.rejects(nodeFileLayer.write(fd, [new Uint8Array(8)], 0), { code: 'ENOSPC' }, 'the WAL file layer refuses the write');
  setTestFaults({});
  const bytes = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  await nodeFileLayer.write(fd, [bytes], 0);
  await nodeFileLayer.fdatasync(fd);
  const back = new Uint8Array(8);
  t.equal(await nodeFileLayer.read(fd, back, 0), 8, 'healed: writes and syncs go through');
  t.same(back, bytes, 'the bytes written');
});

t.test('the watcher applies the file, ignores a bad one, and clears on stop', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-faults-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'n1.json');
  const lines: string[] = [];
  await writeFile(file, '{"syncDelayMs":1500}');
  const watch = watchTestFaults(file, (line) => lines.push(line));
  t.equal(testFaults().syncDelayMs, 1500, 'read at once');
  await writeFile(file, '{"syncDelayMs":');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.equal(testFaults().syncDelayMs, 1500, 'a half-written file changes nothing');
  t.match(lines.join('\n'), /ignoring/);
  await writeFile(file, '{"enospc":true}');
  await new Promise((resolve) => setTimeout(resolve, 300));
  t.same(testFaults(), { syncDelayMs: 0, clockOffsetMs: 0, enospc: true });
  watch.stop();
  t.same(testFaults(), { syncDelayMs: 0, clockOffsetMs: 0, enospc: false }, 'stopped: no faults');
});

t.test('kvc start refuses --unsafe-test-faults without KVC_TEST_FAULTS', async (t) => {
  const config = path.resolve('cluster-configs/dev-1node.yaml');
  const run = await runKvc(['start', '--config', config, '--id', '1', '--unsafe-test-faults'], { env: { KVC_TEST_FAULTS: '' } });
  t.not(run.code, 0);
  t.match(run.stderr, /--unsafe-test-faults needs KVC_TEST_FAULTS/);
});
