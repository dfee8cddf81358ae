// Proves the capacity commands end to end as real `kvc` processes against one real `kvc dev`
// cluster of three members on 127.0.0.1: `config get` shows the replicated settings; `config set
// budgetBytes 64MiB` prints the new settings and the leader then reports them; a bad value or key
// exits 1 with KVC_INVALID_CONFIG on one stderr line; `ns set-quota` shows in `ns list`; a page
// put with `kvc put` can be pinned, unpinned and deleted, after which `lookup` matches 0 and
// `removals` lists the delete; `lookup --lease-ms` over the member's limit fails with
// KVC_INVALID_ARGUMENT; and `status --json --digest` has one digest per member, all equal once
// every member applied the log. Commands that do not depend on each other run concurrently, to
// keep the test short on a small machine. Everything spawned is killed in teardown.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePortRange, runKvc, startDev, type RunResult } from './helpers.js';

const NODES = 3;
const NS = 'capacity-cli';
const KEY = '6b76632d63617061636974792d303031';
const PAGE_BYTES = 4096;
const MiB = 1024 * 1024;
/** Tries of `status --digest` while the followers apply the last entries. */
const DIGEST_TRIES = 10;
const DIGEST_RETRY_MS = 200;

interface Settings {
  budgetBytes: number;
  highWatermark: number;
  lowWatermark: number;
  replicated: boolean;
}

const json = <T>(run: RunResult): T => JSON.parse(run.stdout) as T;

t.test('kvc config, ns, pin/unpin/delete, lookup leases, removals, status --digest', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-capacity-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const basePort = await freePortRange(NODES);
  const dev = await startDev(t, ['--nodes', String(NODES), '--base-port', String(basePort), '--dir', path.join(dir, 'cluster')]);
  const E = ['--endpoints', dev.line.endpoints.join(',')];
  const leaderAddress = dev.line.endpoints[dev.line.leader - 1]!;
  const file = path.join(dir, 'page.bin');
  await writeFile(file, Buffer.alloc(PAGE_BYTES, 7));

  const [get, put, quota, badLow, badBudget, badKey, longLease] = await Promise.all([
    runKvc(['config', 'get', ...E, '--json']),
    runKvc(['put', ...E, '--ns', NS, '--key', KEY, '--file', file]),
    runKvc(['ns', 'set-quota', NS, '64MiB', ...E]),
    runKvc(['config', 'set', 'lowWatermark', '1.5', ...E]),
    runKvc(['config', 'set', 'budgetBytes', '1KiB', ...E]),
    runKvc(['config', 'set', 'noSuchSetting', '1', ...E]),
    runKvc(['lookup', ...E, '--ns', NS, '--keys', KEY, '--lease-ms', '70000']),
  ]);
  t.equal(get.code, 0, `config get exits 0 (${get.stderr})`);
  t.match(json<Settings>(get), { replicated: true }, 'the first leader replicated its settings');
  t.equal(put.code, 0, `put exits 0 (${put.stderr})`);
  t.equal(quota.code, 0, `ns set-quota exits 0 (${quota.stderr})`);
  for (const [name, run] of [['lowWatermark 1.5', badLow], ['budgetBytes 1KiB', badBudget], ['an unknown key', badKey]] as const) {
    t.equal(run.code, 1, `config set ${name} exits 1`);
    t.match(run.stderr, /^kvc config set: KVC_INVALID_CONFIG: [^\n]+\n$/, `config set ${name}: one line with the code`);
  }
  t.equal(longLease.code, 1, 'lookup --lease-ms over the limit exits 1');
  t.match(longLease.stderr, /^kvc lookup: KVC_INVALID_ARGUMENT: [^\n]+\n$/, 'refused by the member, on one line');

  const [set, list, pin] = await Promise.all([
    runKvc(['config', 'set', 'budgetBytes', '64MiB', ...E, '--json']),
    runKvc(['ns', 'list', ...E, '--endpoint', leaderAddress, '--json']),
    runKvc(['pin', ...E, '--ns', NS, '--keys', KEY, '--ttl-ms', '60000']),
  ]);
  t.equal(set.code, 0, `config set exits 0 (${set.stderr})`);
  t.match(json<Settings>(set), { budgetBytes: 64 * MiB }, 'config set prints the new settings');
  t.equal(list.code, 0, `ns list exits 0 (${list.stderr})`);
  const namespaces = json<{ namespaces: { namespace: string; quotaBytes: number; pages: number }[]; endpoint: string }>(list);
  t.match(namespaces.namespaces.find((n) => n.namespace === NS), { quotaBytes: 64 * MiB, pages: 1 }, 'ns list shows the quota and the page');
  t.equal(namespaces.endpoint, leaderAddress, 'ns list says which member answered');
  t.equal(pin.code, 0, `pin exits 0 (${pin.stderr})`);

  const [after, unpin] = await Promise.all([
    runKvc(['config', 'get', ...E, '--endpoint', leaderAddress]),
    runKvc(['unpin', ...E, '--ns', NS, '--keys', KEY]),
  ]);
  t.match(after.stdout, /SETTING\s+VALUE\nbudgetBytes\s+64\.0 MiB \(67108864\)[\s\S]*replicated\s+yes/, 'config get then shows the new budget, as a table');
  t.equal(unpin.code, 0, `unpin exits 0 (${unpin.stderr})`);

  const deleted = await runKvc(['delete', ...E, '--ns', NS, '--keys', KEY]);
  t.equal(deleted.code, 0, `delete exits 0 (${deleted.stderr})`);
  const lookup = await runKvc(['lookup', ...E, '--ns', NS, '--keys', KEY, '--linearizable', '--lease-ms', '1000', '--json']);
  t.same(json(lookup), { matched: 0 }, 'the deleted page is gone');

  const [removals, human, listHuman, digests] = await Promise.all([
    runKvc(['removals', ...E, '--endpoint', leaderAddress, '--json']),
    runKvc(['status', ...E]),
    runKvc(['ns', 'list', ...E, '--endpoint', leaderAddress]),
    converged(E),
  ]);
  t.equal(removals.code, 0, `removals exits 0 (${removals.stderr})`);
  t.match(json<{ removals: unknown[] }>(removals).removals, [{ namespace: NS, key: KEY, reason: 'deleted' }], 'removals lists the delete');
  t.match(human.stdout, /\nbudget: 0 B of 64\.0 MiB \(0\.0%\), [^\n]+; evicted 0 pages \(0 B\), expired 0\n/, 'status shows the bytes against the budget, and evictions');
  t.match(listHuman.stdout, new RegExp(`NAMESPACE[^\\n]+QUOTA[^\\n]+LOOKUP HIT%\\n${NS}\\s+0\\s+0 B\\s+64\\.0 MiB`), 'ns list: a table by default');
  t.match(listHuman.stdout, /that member's own lookups/, 'saying whose lookup counters these are');
  t.equal(digests.length, NODES, 'status --json --digest has a digest per member');
  t.ok(digests.every((d) => /^[0-9a-f]{64}$/.test(d)), 'each a sha256');
  t.equal(new Set(digests).size, 1, 'all equal once applied');
});

/** The members' digests once they agree (or the last ones seen). */
async function converged(E: string[]): Promise<string[]> {
  let digests: string[] = [];
  for (let i = 0; i < DIGEST_TRIES; i++) {
    const run = await runKvc(['status', ...E, '--json', '--digest']);
    digests = json<{ members: { digest: string | null }[] }>(run).members.map((m) => m.digest ?? '');
    if (new Set(digests).size === 1) return digests;
    await new Promise((resolve) => setTimeout(resolve, DIGEST_RETRY_MS));
  }
  return digests;
}
