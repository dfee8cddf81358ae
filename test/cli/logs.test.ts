// Proves the member log of `kvc start` (src/cli/member-log.ts): by default one JSON object per
// line on stderr with level, ISO time, member id, term, role and msg, from "serving at" to
// "stopped" after SIGTERM; --log-level warn drops the info lines (and a config's log.level is
// read); --log-format pretty writes readable lines with the same fields.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { KvcClient } from '../../src/client/index.js';
import { KVC_BIN, childEnv, freePortRange } from './helpers.js';

/** Runs one single-member `kvc start` until it leads (or 20 s pass), stops it, returns its stderr. */
async function runMember(dir: string, args: string[], config = ''): Promise<string> {
  const port = await freePortRange(1);
  const file = path.join(dir, `c${port}.yaml`);
  await writeFile(file, `cluster: logs\ndataDir: ${path.join(dir, String(port))}\nmembers: [{ id: 1, address: 127.0.0.1:${port} }]\nstorage: { fsync: false }\n${config}`);
  const child = spawn(process.execPath, [KVC_BIN, 'start', '--config', file, '--id', '1', ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Serving, then the single voter elects itself (the role shows up on later lines). Asked over
  // gRPC rather than read from stderr, which is empty at --log-level warn; a fresh client per try,
  // so a refused first connection's reconnect backoff never delays the answer.
  const address = `127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const client = new KvcClient({ endpoints: [address], deadlineMs: 1_000, retries: 0 });
    const role = await client.status(address).then((st) => st.role, () => 'down');
    client.close();
    if (role === 'leader') break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(killer);
  return stderr;
}

t.test('JSON lines with member, term and role; levels; the readable format', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-logs-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));

  const json = await runMember(dir, []);
  const lines = json.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
  t.ok(lines.length >= 3, `several lines (${lines.length})`);
  for (const line of lines) {
    t.match(line, { level: String, time: /^\d{4}-\d\d-\d\dT/, member: 1, role: String, msg: String }, `a full line: ${JSON.stringify(line)}`);
  }
  t.ok(lines.some((line) => /serving at 127\.0\.0\.1:\d+ \(pid \d+, data /.test(String(line.msg))), 'the serving line');
  const stopping = lines.find((line) => /^stopping: SIGTERM/.test(String(line.msg)));
  t.match(stopping, { level: 'info', role: 'leader' }, 'a single voter leads, and says so on its lines');
  t.ok(typeof stopping?.term === 'number' && stopping.term >= 1, 'with its term');
  t.match(lines.at(-1), { msg: 'stopped' });

  const quiet = await runMember(dir, ['--log-level', 'warn']);
  t.equal(quiet.trim(), '', '--log-level warn: no info lines');
  t.equal((await runMember(dir, [], 'log: { level: error }\n')).trim(), '', "the config's log.level");

  const pretty = await runMember(dir, ['--log-format', 'pretty']);
  t.match(pretty, /^\d{4}-\d\d-\d\dT\S+ n1 t(\d+|-) \S+ INFO serving at /m, 'readable lines');
  t.match(pretty, /n1 t\d+ leader INFO stopping: SIGTERM/);
});
