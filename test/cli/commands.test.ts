// Proves the page, namespace, config and removals commands end to end in this process (their
// register functions and runProgram, stdout captured) against an in-process member on 127.0.0.1:
// `kvc put` of a file, `kvc lookup` (one of two keys found), `kvc get` into a file with the same
// bytes, `kvc ns list` naming the namespace, `kvc config get`, `kvc delete` and `kvc removals`
// listing the delete; human and --json output both. The same commands run as child processes in
// other files (test/cli/errors.test.ts, dev.test.ts), whose coverage does not count.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { registerConfig } from '../../src/cli/commands/config.js';
import { registerNamespaces } from '../../src/cli/commands/namespaces.js';
import { registerPages } from '../../src/cli/commands/pages.js';
import { registerRemovals } from '../../src/cli/commands/removals.js';
import { startCluster } from '../rpc/helpers.js';
import { runKvcInProcess } from './helpers.js';

const NS = 'cli-commands';
const KEY = '00112233445566778899aabbccddeeff';
const OTHER = 'ffeeddccbbaa99887766554433221100';

t.test('put, lookup, get, ns list, config get, delete, removals', async (t) => {
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  await cluster.leader();
  const E = ['--endpoints', cluster.addresses.get(1)!];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kvc-commands-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const payload = Buffer.alloc(4096, 7);
  writeFileSync(path.join(dir, 'in.bin'), payload);

  const put = await runKvcInProcess(registerPages, ['put', ...E, '--ns', NS, '--key', KEY, '--file', path.join(dir, 'in.bin'), '--json']);
  t.equal(put.code, 0, put.stderr);
  t.match(JSON.parse(put.stdout), { bytes: 4096 }, 'put: one page of the file\'s bytes');

  const lookup = await runKvcInProcess(registerPages, ['lookup', ...E, '--ns', NS, '--keys', `${KEY},${OTHER}`]);
  t.equal(lookup.code, 0, lookup.stderr);
  t.match(lookup.stdout, /matched 1 of 2 keys/);

  const get = await runKvcInProcess(registerPages, ['get', ...E, '--ns', NS, '--key', KEY, '--out', path.join(dir, 'out.bin'), '--json']);
  t.equal(get.code, 0, get.stderr);
  t.same(readFileSync(path.join(dir, 'out.bin')), payload, 'get: the same bytes in the file');

  const namespaces = await runKvcInProcess(registerNamespaces, ['ns', 'list', ...E, '--json']);
  t.equal(namespaces.code, 0, namespaces.stderr);
  t.match(namespaces.stdout, NS, 'ns list names the namespace');
  const namespacesHuman = await runKvcInProcess(registerNamespaces, ['ns', 'list', ...E]);
  t.match(namespacesHuman.stdout, NS);

  const config = await runKvcInProcess(registerConfig, ['config', 'get', ...E, '--json']);
  t.equal(config.code, 0, config.stderr);
  t.type(JSON.parse(config.stdout), 'object', 'config get: one JSON document');
  const configHuman = await runKvcInProcess(registerConfig, ['config', 'get', ...E]);
  t.equal(configHuman.code, 0, configHuman.stderr);
  t.not(configHuman.stdout, '');

  const deleted = await runKvcInProcess(registerPages, ['delete', ...E, '--ns', NS, '--keys', KEY, '--json']);
  t.equal(deleted.code, 0, deleted.stderr);
  const removals = await runKvcInProcess(registerRemovals, ['removals', ...E, '--json']);
  t.equal(removals.code, 0, removals.stderr);
  t.match(removals.stdout, NS, 'removals lists the deleted page');
  const removalsHuman = await runKvcInProcess(registerRemovals, ['removals', ...E]);
  t.equal(removalsHuman.code, 0, removalsHuman.stderr);
  t.match(removalsHuman.stdout, NS);
});
