// Proves the CLI's in-process building blocks: table layout, the progress bar (drawn only when
// enabled, throttled, with its counts; whole lines off a terminal, lines logged above it; the
// timed bar of a chaos run), percentiles, option parsers, error descriptions, the stop
// signal (a repeat right after the first signal is ignored, a later one means "now"), and the
// supervisor's stop escalation with a real child that ignores SIGTERM (it must be SIGKILLed after
// the grace period) and its report of a child that dies on its own.
import t from 'tap';
import { InvalidArgumentError } from 'commander';
import { ConfigError } from '../../src/config/index.js';
import { CliError, describeError } from '../../src/cli/cli-error.js';
import { integerIn, parseEndpoints, parseHex, parseHexList, parseMemberId, parseShape } from '../../src/cli/options.js';
import { megabytesPerSecond, renderTable, round, toHex } from '../../src/cli/output.js';
import { ProgressBar, TimedProgress, progressEnabled } from '../../src/cli/progress-bar.js';
import { percentile } from '../../src/cli/commands/bench.js';
import { REPEATED_SIGNAL_GAP_MS, StopSignal, sleep, unlessStopped } from '../../src/cli/stop-signal.js';
import { Supervisor, describeExit } from '../../src/cli/supervisor.js';
import { pidAlive } from './helpers.js';

t.test('tables align their columns', async (t) => {
  const table = renderTable([{ header: 'ID', align: 'right' }, { header: 'NAME' }], [['1', 'alpha'], ['10', 'b']]);
  t.equal(table, 'ID  NAME\n 1  alpha\n10  b');
  t.equal(round(megabytesPerSecond(2_000_000, 1000)), 2);
  t.equal(megabytesPerSecond(1, 0), 0);
  t.equal(toHex(new Uint8Array([0, 255, 16])), '00ff10');
});

t.test('the progress bar draws only when enabled, at most every 100 ms, and ends its line', async (t) => {
  const writes: string[] = [];
  const stream = { isTTY: true, columns: 100, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar({ label: 'put', total: 10, stream, detail: (done) => `${done} done` });
  bar.tick();
  bar.tick(3);
  t.equal(writes.length, 1, 'the second tick inside 100 ms is not drawn');
  t.equal(writes[0], `\r${'put'.padEnd(7)} ${'█'.repeat(4)}${'░'.repeat(36)}  1/10  1 done\x1b[K`);
  bar.tick(100);
  t.equal(bar.done, 10, 'progress stops at the total');
  bar.finish();
  bar.finish();
  t.ok(writes.at(-2)!.includes(`${'█'.repeat(40)} 10/10  10 done`));
  t.equal(writes.at(-1), '\n');
  const silent: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => silent.push(s) } as unknown as NodeJS.WriteStream;
  const off = new ProgressBar({ label: 'get', total: 2, stream: pipe });
  off.tick(2);
  off.finish();
  t.same(silent, [], 'nothing on a pipe');
  t.match(off.render(), /^get\s+█+ 2\/2$/);
});

t.test('progress off a terminal (--progress): whole lines, at most one a second, and the last', async (t) => {
  t.equal(progressEnabled({ progress: true }, { isTTY: false } as NodeJS.WriteStream), true, '--progress draws anywhere');
  t.equal(progressEnabled({ json: true }, { isTTY: true } as NodeJS.WriteStream), false, 'not with --json unless asked');
  t.equal(progressEnabled({}, { isTTY: true } as NodeJS.WriteStream), true, 'on a terminal by default');
  const lines: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const bar = new ProgressBar({ label: 'replay', total: 4, stream: pipe, enabled: true });
  bar.tick();
  bar.tick();
  bar.log('a line of its own');
  bar.finish();
  bar.log('after');
  t.same(lines.map((l) => l.replace(/[█░]+/, '#')), ['replay  # 1/4\n', 'a line of its own\n', 'replay  # 2/4\n', 'after\n'], 'no carriage returns, one line a second, the final state');
  const tty: string[] = [];
  const terminal = { isTTY: true, columns: 60, write: (s: string) => tty.push(s) } as unknown as NodeJS.WriteStream;
  const drawn = new ProgressBar({ label: 'put', total: 2, stream: terminal });
  drawn.log('before any drawing');
  drawn.update(1);
  drawn.log('above the bar');
  t.equal(tty[0], 'before any drawing\n');
  t.equal(tty[2], '\rabove the bar\x1b[K\n', 'a logged line replaces the bar...');
  t.ok(tty[3]!.startsWith('\rput ') && tty[3]!.endsWith(' 1/2\x1b[K'), '...which is drawn again below it');
});

t.test('a timed bar spans start() to stop(), redrawn every second', async (t) => {
  const lines: string[] = [];
  const pipe = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  const off = new TimedProgress({ label: 'chaos', durationMs: 3_000, enabled: false, stream: pipe });
  off.start();
  off.log('plain');
  off.stop();
  t.same(lines, ['plain\n'], 'not enabled: only the lines');
  lines.length = 0;
  const timed = new TimedProgress({ label: 'chaos', durationMs: 3_000, enabled: true, stream: pipe });
  timed.log('before');
  timed.start();
  timed.start();
  await sleep(1_100);
  timed.log('during');
  timed.stop();
  timed.stop();
  t.equal(lines[0], 'before\n');
  t.match(lines[1], /^chaos\s+░+ 0\/3 {2}0 s of 3 s\n$/, 'drawn at the start');
  t.match(lines[2], /^chaos\s+[█░]+ 1\/3 {2}1 s of 3 s\n$/, 'and by its timer a second later');
  t.equal(lines[3], 'during\n');
  t.equal(lines.length, 4, 'not drawn again at the stop: the same state as its last line');
});

t.test('percentiles by nearest rank', async (t) => {
  const values = Array.from({ length: 100 }, (_, i) => 100 - i);
  t.equal(percentile(values, 0.5), 50);
  t.equal(percentile(values, 0.99), 99);
  t.equal(percentile(values, 1), 100);
  t.equal(percentile([7], 0.99), 7);
  t.equal(percentile([], 0.5), 0);
});

t.test('option parsers', async (t) => {
  t.equal(integerIn(1, 5)('3'), 3);
  for (const bad of ['0', '6', '1.5', 'x', '']) t.throws(() => integerIn(1, 5)(bad), InvalidArgumentError, `integerIn rejects "${bad}"`);
  t.equal(parseMemberId('2'), 2);
  t.equal(parseMemberId('n12'), 12);
  for (const bad of ['0', 'n', 'x1', '1.0', '-3']) t.throws(() => parseMemberId(bad), /expected a member id/, `parseMemberId rejects "${bad}"`);
  t.same(parseEndpoints(' a:1, b:2,a:1,'), ['a:1', 'b:2'], 'trimmed and deduplicated');
  t.throws(() => parseEndpoints(','), /expected host:port/);
  t.throws(() => parseEndpoints('a:1,b'), /got "b"/);
  t.same([...parseHex('0x00ff')], [0, 255]);
  t.throws(() => parseHex('abc'), /even number/);
  t.same(parseHexList('00,ff,').map((k) => [...k]), [[0], [255]]);
  t.same(parseShape('2, 3,4'), [2, 3, 4]);
  t.throws(() => parseShape('2,0'), /positive integers/);
  t.throws(() => parseShape('1,1,1,1,1,1,1,1,1'), /1-8 positive integers/);
});

t.test('errors are described in one line, bugs say so', async (t) => {
  t.equal(describeError(new CliError('port busy')), 'port busy');
  t.equal(describeError(new ConfigError('f.yaml', [{ field: 'a', problem: 'bad', line: 2 }])), 'f.yaml: a: bad (line 2)');
  const coded = Object.assign(new Error('KVC_NOT_FOUND: page not found'), { code: 'KVC_NOT_FOUND' });
  t.equal(describeError(coded), 'KVC_NOT_FOUND: page not found');
  const system = Object.assign(new Error('open failed'), { code: 'EACCES' });
  t.equal(describeError(system), 'EACCES: open failed');
  t.match(describeError(new TypeError('x is undefined')), /^internal error: x is undefined \(set KVC_DEBUG=1 for the stack\)$/);
  t.equal(describeError('text'), 'internal error: text');
});

t.test('a stop signal ends waits and races', async (t) => {
  const stop = new StopSignal();
  t.teardown(() => stop.dispose());
  const slow = sleep(60_000, stop.signal);
  setTimeout(() => stop.trigger('test'), 10);
  await slow;
  t.equal(await stop.promise, 'test');
  stop.trigger('second');
  t.equal(await stop.promise, 'test', 'the first reason wins');
  await t.rejects(unlessStopped(new Promise(() => {}), stop), /stopped: test/);
  const repeats: string[] = [];
  const signalled = new StopSignal({ onRepeat: (name) => repeats.push(name) });
  process.emit('SIGTERM', 'SIGTERM');
  t.equal(await signalled.promise, 'SIGTERM', 'SIGTERM triggers it');
  process.emit('SIGINT', 'SIGINT');
  t.same(repeats, [], 'a signal right after the first is the same request');
  await sleep(REPEATED_SIGNAL_GAP_MS);
  process.emit('SIGINT', 'SIGINT');
  t.same(repeats, ['SIGINT'], 'a signal a while later means "now"');
  signalled.dispose();
});

t.test('the supervisor escalates to SIGKILL and reports children that die on their own', async (t) => {
  const supervisor = new Supervisor();
  t.teardown(() => supervisor.killAllSync());
  const unexpected: string[] = [];
  supervisor.onUnexpectedExit = (child, exit) => unexpected.push(`${child.id} ${describeExit(exit)}`);
  // Reports ready over IPC, then ignores SIGTERM: only SIGKILL ends it.
  const stubborn = supervisor.spawn({
    id: 1,
    command: process.execPath,
    args: ['-e', "process.on('SIGTERM', () => {}); process.send({ type: 'ready', address: 'h:1' }); setInterval(() => {}, 1000);"],
  });
  const quitter = supervisor.spawn({ id: 2, command: process.execPath, args: ['-e', 'process.exit(3)'] });
  t.equal(await stubborn.ready, 'h:1', 'ready carries the address');
  await t.rejects(quitter.ready, /member 2 \(pid \d+\) exited with code 3 before it was ready/);
  t.same(unexpected, ['2 with code 3']);
  t.same(supervisor.live().map((c) => c.id), [1]);
  const start = Date.now();
  await supervisor.stopAll(300);
  t.ok(Date.now() - start >= 300, 'waited the grace period first');
  t.same(stubborn.exit, { code: null, signal: 'SIGKILL' }, 'then SIGKILL');
  t.notOk(pidAlive(stubborn.pid), 'the process is gone');
  t.same(unexpected, ['2 with code 3'], 'a requested stop is not reported as unexpected');
});
