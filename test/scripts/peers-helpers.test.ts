// Proves the pure helpers of the `peers` benchmark (scripts/bench/peers-helpers.ts, and
// parseWriteBytes and parseCpuMs in scripts/bench/measure.ts, which the suites' meters use): write_bytes
// and CPU time are read from /proc/<pid>/io and /proc/<pid>/stat text (and this process's real files on Linux), a binary is found on
// a PATH only as an executable file, and the put loop keeps at most `inflight` puts running, stops
// at `putsMax` or its deadline, and fails when a put fails; free port ranges lie below the kernel's
// ephemeral range. Real files in a temp dir, no mocks.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import { deviceNumbers, parseCpuMs, parseDiskBusyMs, parseWriteBytes } from '../../scripts/bench/measure.js';
import { diskBusyMeter } from '../../scripts/bench/processes.js';
import { driveInflight, findOnPath } from '../../scripts/bench/peers-helpers.js';
import { freePortRange } from '../../scripts/bench/ports.js';

const PROC_IO_SAMPLE = ['rchar: 10', 'wchar: 20', 'syscr: 1', 'syscw: 2', 'read_bytes: 4096', 'write_bytes: 123456789', 'cancelled_write_bytes: 0', ''].join('\n');

t.test('write_bytes is read from /proc/<pid>/io text', async (t) => {
  t.equal(parseWriteBytes(PROC_IO_SAMPLE), 123_456_789);
  t.ok(Number.isNaN(parseWriteBytes('rchar: 10\n')), 'NaN when the field is missing');
  t.ok(Number.isNaN(parseWriteBytes('cancelled_write_bytes: 5\n')), 'a field that only ends in write_bytes does not count');
  if (process.platform === 'linux') t.ok(parseWriteBytes(readFileSync('/proc/self/io', 'utf8')) >= 0, "this process's own file parses");
});

t.test('CPU time is read from /proc/<pid>/stat text, past a command name with spaces', async (t) => {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
  t.equal(parseCpuMs('42 (node x) y) S 1 42 42 0 -1 4194304 10 0 0 0 250 75 0 0 20 0 1'), 3250, 'utime 250 + stime 75 ticks = 3250 ms');
  t.ok(Number.isNaN(parseCpuMs('42 (node) S 1 42')), 'NaN when the fields are missing');
  if (process.platform === 'linux') t.ok(parseCpuMs(readFileSync('/proc/self/stat', 'utf8')) >= 0, "this process's own file parses");
});

t.test("a disk's busy milliseconds are read from /proc/diskstats text, by the device of a directory", async (t) => {
  const diskstats = [
    ' 254       0 vda 904438 28794 62946570 660136 6080080 2883460 2888006168 4903324 0 2760528 8139856 1855631 2857 2758393384 1286607 1392918 1289787',
    ' 254       1 vda1 1000 0 8000 50 2000 0 16000 70 0 345 120',
    '   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0',
  ].join('\n');
  t.equal(parseDiskBusyMs(diskstats, 254, 0), 2_760_528, 'io_ticks of vda');
  t.equal(parseDiskBusyMs(diskstats, 254, 1), 345, 'a partition has its own line');
  t.ok(Number.isNaN(parseDiskBusyMs(diskstats, 8, 0)), 'NaN for a device with no line');
  t.same(deviceNumbers((254 << 8) | 0), { major: 254, minor: 0 }, 'vda');
  t.same(deviceNumbers((259 << 8) | 3), { major: 259, minor: 3 }, 'nvme0n1p3');
  // glibc's gnu_dev_makedev, for numbers past the old 8-bit/12-bit fields.
  const makedev = (major: bigint, minor: bigint): bigint => ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) | ((minor & ~0xffn) << 12n);
  t.same(deviceNumbers(makedev(0x12345n, 0x6789an)), { major: 0x12345, minor: 0x6789a }, 'the wide encoding of glibc');
  if (process.platform === 'linux') {
    const meter = diskBusyMeter(process.cwd());
    if (meter === undefined) t.pass('the working directory is on no block device here (tmpfs or overlay)');
    else t.ok(meter() >= 0, "the working directory's device has a busy counter, read from when the meter was made");
    t.equal(diskBusyMeter('/proc'), undefined, '/proc is on no block device');
  }
});

t.test('findOnPath finds executable files only, in PATH order', async (t) => {
  const root = t.testdir({});
  const [first, second] = [path.join(root, 'a'), path.join(root, 'b')];
  mkdirSync(first);
  mkdirSync(second);
  mkdirSync(path.join(first, 'tool')); // A directory of that name is not the tool.
  writeFileSync(path.join(first, 'plain'), '');
  chmodSync(path.join(first, 'plain'), 0o644);
  writeFileSync(path.join(second, 'tool'), '#!/bin/sh\n');
  chmodSync(path.join(second, 'tool'), 0o755);
  const searchPath = ['', first, second].join(path.delimiter);
  t.equal(findOnPath('tool', searchPath), path.join(second, 'tool'));
  t.equal(findOnPath('missing', searchPath), undefined);
  t.equal(findOnPath('kvc-no-such-binary-anywhere'), undefined, 'the default is this process\'s PATH');
  if (process.getuid?.() !== 0) t.equal(findOnPath('plain', searchPath), undefined, 'a file without x bits is skipped');
});

t.test('driveInflight keeps at most `inflight` puts running and stops at putsMax', async (t) => {
  let running = 0;
  let most = 0;
  const seen: number[] = [];
  const put = async (i: number): Promise<void> => {
    running++;
    most = Math.max(most, running);
    seen.push(i);
    await new Promise((resolve) => setTimeout(resolve, 2));
    running--;
  };
  const run = await driveInflight(put, 100, { first: 10, inflight: 3, putsMax: 12, durationMsMax: 60_000 });
  t.equal(run.puts, 12);
  t.equal(run.bytes, 1200);
  t.equal(run.latenciesMs.length, 12);
  t.equal(most, 3, 'three in flight at most, and three reached');
  t.same(seen.sort((a, b) => a - b), Array.from({ length: 12 }, (_, k) => 10 + k), 'each number once, from `first`');
  t.ok(run.elapsedMs > 0);
});

t.test('driveInflight stops sending at its deadline, and a failed put fails the run', async (t) => {
  const slow = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));
  const run = await driveInflight(slow, 1, { first: 0, inflight: 2, putsMax: 1_000_000, durationMsMax: 50 });
  t.ok(run.puts >= 2 && run.puts < 20, `a few puts before the deadline (${run.puts})`);
  const failing = async (i: number): Promise<void> => {
    if (i === 3) throw new Error('refused');
  };
  await t.rejects(driveInflight(failing, 1, { first: 0, inflight: 2, putsMax: 10, durationMsMax: 60_000 }), /refused/);
});

t.test('freePortRange picks consecutive free ports below the ephemeral range, where outgoing connections take none', async (t) => {
  const base = await freePortRange(6);
  const low = process.platform === 'linux' ? Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]) : Infinity;
  if (low - 20_000 >= 4096) t.ok(base + 6 <= low, `ports ${base}..${base + 5} lie below the ephemeral range (from ${low})`);
  const servers = await Promise.all(
    Array.from({ length: 6 }, (_, i) => new Promise<net.Server>((resolve, reject) => {
      const server = net.createServer();
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: base + i, exclusive: true }, () => resolve(server));
    })),
  );
  t.equal(servers.length, 6, 'all six can be bound');
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});
