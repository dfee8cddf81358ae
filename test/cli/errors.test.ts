// Proves that `kvc` fails the way the CLI promises, as a real process: a non-zero exit with one
// clear line on stderr (naming the bad config field, the busy port, the unreadable file, the
// unreachable members), exit status 2 for a command line that does not parse, and nothing on
// stdout. No cluster is started: every case fails before or at the first connection.
import t, { type Test } from 'tap';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePortRange, runKvc, type RunResult } from './helpers.js';

function failsWith(t: Test, result: RunResult, code: number, pattern: RegExp, what: string): void {
  t.equal(result.code, code, `${what}: exit status ${code}`);
  t.equal(result.stdout, '', `${what}: nothing on stdout`);
  t.match(result.stderr, pattern, `${what}: says why (${result.stderr.trim()})`);
}

t.test('kvc start with a bad config names the field and does not start', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-cli-err-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'x.yaml');
  await writeFile(bad, 'cluster: x\nmembers:\n  - { id: 1, address: 127.0.0.1:7401 }\n  - { id: 2, address: 127.0.0.1:7402 }\n  - { id: 3, address: foo }\n');
  const result = await runKvc(['start', '--config', bad, '--id', '1']);
  failsWith(t, result, 1, /^kvc start: .*x\.yaml: members\[2\]\.address: expected host:port \(port 1-65535\), got "foo" \(line 5\)\n$/, 'bad address');
  const unknown = path.join(dir, 'y.yaml');
  await writeFile(unknown, 'cluster: y\nmembers: [{ id: 1, address: 127.0.0.1:7401 }]\nstorage: { fsynk: false }\n');
  failsWith(t, await runKvc(['start', '--config', unknown, '--id', '1']), 1, /y\.yaml: storage\.fsynk: unknown field/, 'misspelt field');
  failsWith(t, await runKvc(['start', '--config', path.join(dir, 'none.yaml'), '--id', '1']), 1, /none\.yaml: cannot read the file \(ENOENT\)/, 'missing file');
  const good = path.join(dir, 'g.yaml');
  await writeFile(good, 'cluster: g\nmembers: [{ id: 1, address: 127.0.0.1:7401 }]\n');
  failsWith(t, await runKvc(['start', '--config', good, '--id', '4']), 1, /no member with id 4 \(ids: 1\)/, 'unknown id');
});

t.test('command lines that do not parse exit 2', async (t) => {
  failsWith(t, await runKvc(['start', '--id', '1']), 2, /required option '--config <file>' not specified/, 'missing option');
  failsWith(t, await runKvc(['put', '--ns', 'n', '--key', 'zz', '--file', 'f']), 2, /--key <hex>.*expected hex bytes/, 'bad hex');
  failsWith(t, await runKvc(['status', '--endpoints', 'nohost']), 2, /expected host:port, got "nohost"/, 'bad endpoint');
  failsWith(t, await runKvc(['dev', '--nodes', '99']), 2, /expected an integer 1\.\.15/, 'too many nodes');
  failsWith(t, await runKvc(['statsu']), 2, /unknown command 'statsu'/, 'unknown command');
  failsWith(t, await runKvc(['put', '--ns', 'n', '--key', '00', '--file', 'f', '--dtype', 'int8']), 2, /Allowed choices are fp16, fp32, bf16, u8/, 'unknown dtype');
  const help = await runKvc(['--help']);
  t.equal(help.code, 0, 'help exits 0');
  t.match(help.stdout, /Commands:[\s\S]*start[\s\S]*dev[\s\S]*bench/);
});

t.test('unreachable members and unreadable files fail with one line', async (t) => {
  const port = await freePortRange(1);
  const E = ['--endpoints', `127.0.0.1:${port}`, '--deadline-ms', '2000'];
  failsWith(t, await runKvc(['status', ...E]), 1, /^kvc status: no member answered \(.*ECONNREFUSED.*\)\n$/, 'status');
  failsWith(t, await runKvc(['lookup', ...E, '--ns', 'n', '--keys', '0011223344556677']), 1, /^kvc lookup: KVC_UNAVAILABLE: .*\n$/, 'lookup');
  failsWith(t, await runKvc(['put', ...E, '--ns', 'n', '--key', '0011223344556677', '--file', '/nonexistent/page.bin']), 1, /^kvc put: cannot read \/nonexistent\/page\.bin \(ENOENT\)\n$/, 'put of a missing file');
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-cli-err-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const odd = path.join(dir, 'odd.bin');
  await writeFile(odd, Buffer.alloc(5));
  failsWith(t, await runKvc(['put', ...E, '--ns', 'n', '--key', '0011223344556677', '--file', odd, '--dtype', 'fp16']), 1, /5 bytes, not a whole number of fp16 elements/, 'odd size');
});

t.test('kvc dev refuses a busy port and a dir holding another cluster size', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-cli-err-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const base = await freePortRange(3);
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen({ host: '127.0.0.1', port: base + 1 }, resolve));
  t.teardown(() => new Promise((resolve) => blocker.close(resolve)));
  const busy = await runKvc(['dev', '--base-port', String(base), '--dir', path.join(dir, 'a'), '--json']);
  failsWith(t, busy, 1, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${base + 1} for member 2: EADDRINUSE \\(is another cluster running\\? pick another --base-port\\)`), 'busy port');
  const one = path.join(dir, 'one');
  await mkdir(one, { recursive: true });
  await writeFile(path.join(one, 'cluster.yaml'), `cluster: dev\ndataDir: ${one}\nmembers: [{ id: 1, address: 127.0.0.1:${base} }]\n`);
  failsWith(t, await runKvc(['dev', '--nodes', '3', '--base-port', String(base + 10), '--dir', one]), 1, /holds a 1-member cluster; run with --nodes 1/, 'other size');
  failsWith(t, await runKvc(['dev', '--nodes', '2', '--base-port', '65535']), 1, /--base-port 65535 leaves no room for 2 ports/, 'ports past 65535');
});
