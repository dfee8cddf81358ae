// Proves that cluster configs are read and checked as cluster-configs/README.md documents: every
// shipped config validates and yields the member options `kvc start` passes to startMember; each
// kind of bad field is reported with the field's name, the file and its line (one table row per
// kind, checked against the message); sizes take binary units; the memory tier and worker
// settings reach the member options (256 MiB arena when the file sets none, 0 turns it off, the
// minimum is one slab of the store's arena); and a config rendered by `kvc dev` reads back equal.
// Pure functions over strings and temp files: no processes, no network.
import t from 'tap';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SLAB_BYTES_DEFAULT } from '../../src/store/index.js';
import {
  ARENA_BYTES_MIN,
  CONFIG_FILE_BYTES_MAX,
  ConfigError,
  devClusterConfig,
  formatBytes,
  loadClusterConfig,
  parseByteSize,
  parseClusterConfig,
  renderClusterConfig,
} from '../../src/config/index.js';
import { LIMITS } from '../../src/limits.js';
import { memberOptions } from '../../src/member/index.js';

const CONFIG_DIR = new URL('../../cluster-configs/', import.meta.url);
const MINIMAL = 'cluster: c1\nmembers:\n  - { id: 1, address: 127.0.0.1:7401 }\n';

function configError(text: string, source = 'x.yaml'): ConfigError {
  try {
    parseClusterConfig(text, source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

t.test('every shipped config validates and names its members', async (t) => {
  const files = (await readdir(CONFIG_DIR)).filter((f) => f.endsWith('.yaml')).sort();
  t.same(files, ['dev-1node.yaml', 'local-3node.yaml', 'local-5node.yaml', 'tls-3node.yaml']);
  const expectedMembers: Record<string, number> = { 'dev-1node.yaml': 1, 'local-3node.yaml': 3, 'local-5node.yaml': 5, 'tls-3node.yaml': 3 };
  for (const file of files) {
    const config = await loadClusterConfig(path.join(CONFIG_DIR.pathname, file));
    t.equal(config.members.length, expectedMembers[file], `${file}: member count`);
    t.equal(config.cluster, file.replace('.yaml', ''), `${file}: cluster name matches the file name`);
    config.members.forEach((member, i) => {
      t.equal(member.address, `127.0.0.1:${7401 + i}`, `${file}: member ${member.id} on loopback port ${7401 + i}`);
      const options = memberOptions(config, member.id);
      t.equal(options.listen, member.address);
      t.equal(options.dataDir, path.resolve(config.dataDir, `n${member.id}`));
      t.equal(options.members.length, config.members.length);
      t.equal(options.node?.fsync, true, `${file}: fsync stays on`);
      t.same(options.memoryTier, { arenaBytes: 256 * 1024 ** 2, sharedMemory: { dir: '/dev/shm' } }, `${file}: a 256 MiB memory tier, shared in /dev/shm`);
      if (config.tls === undefined) return;
      t.same(options.tls, { caFile: path.resolve('certs/ca.pem'), certFile: path.resolve(`certs/member-${member.id}.pem`), keyFile: path.resolve(`certs/member-${member.id}-key.pem`) }, `${file}: {id} in the TLS paths`);
      t.equal(options.tokens?.length, 2, `${file}: its tokens`);
    });
  }
});

t.test('memberOptions maps every section onto the member and node options', async (t) => {
  const config = parseClusterConfig(
    [
      'cluster: full',
      'dataDir: /var/lib/kvc',
      'members:',
      '  - { id: 1, address: 10.0.0.1:7401, listen: 0.0.0.0:7401, metricsAddress: "0.0.0.0:9401" }',
      '  - { id: 2, address: "[::1]:7402" }',
      '  - { id: 7, address: node7.example.com:7401 }',
      'raft: { tickMs: 50, electionTick: 20, heartbeatTick: 2 }',
      'storage: { fsync: false, budgetBytes: 1.5GiB, walSegmentBytes: 128MiB }',
      'compaction: { entries: 500, walBytes: 256 MiB, intervalMs: 60000, keepEntries: 0 }',
      'memory: { arenaBytes: 1GiB, numaNode: 1, sharedMemoryDir: /mnt/huge }',
      'workers: { threads: 3 }',
      'adminToken: s3cret-token',
      'tls: { mode: insecure }',
      'tracing: { otlpEndpoint: "http://127.0.0.1:4318/v1/traces", serviceName: kvc-prod, sampleRatio: 0.25 }',
    ].join('\n'),
    'full.yaml',
  );
  const one = memberOptions(config, 1, { walRepair: true });
  t.same(one, {
    id: 1,
    listen: '0.0.0.0:7401',
    advertise: '10.0.0.1:7401',
    members: [
      { id: 1, address: '10.0.0.1:7401' },
      { id: 2, address: '[::1]:7402' },
      { id: 7, address: 'node7.example.com:7401' },
    ],
    dataDir: '/var/lib/kvc/n1',
    node: {
      tickMs: 50,
      electionTick: 20,
      heartbeatTick: 2,
      fsync: false,
      budgetBytes: Math.floor(1.5 * 1024 ** 3),
      walSegmentBytes: 128 * 1024 ** 2,
      compaction: { entries: 500, walBytes: 256 * 1024 ** 2, intervalMs: 60_000, keepEntries: 0 },
      walRepair: true,
    },
    memoryTier: { arenaBytes: 1024 ** 3, numaNode: 1, sharedMemory: { dir: '/mnt/huge' } },
    workerThreads: 3,
    adminToken: 's3cret-token',
    metricsAddress: '0.0.0.0:9401',
    tracing: { otlpEndpoint: 'http://127.0.0.1:4318/v1/traces', serviceName: 'kvc-prod', sampleRatio: 0.25 },
  });
  t.notOk('metricsAddress' in memberOptions(config, 2), 'no metrics listener unless configured');
  t.equal(memberOptions(config, 7, { join: true }).join, true, 'a joining member says so');
  t.notOk('join' in memberOptions(config, 2), 'an initial member does not join');
  t.throws(() => memberOptions(config, 3, { source: 'full.yaml' }), { message: 'full.yaml: members: no member with id 3 (ids: 1, 2, 7)' });
  const minimal = parseClusterConfig(MINIMAL, 'm.yaml');
  t.equal(minimal.dataDir, './.kvc/c1', 'dataDir defaults to ./.kvc/<cluster>');
  t.same(Object.keys(memberOptions(minimal, 1)).sort(), ['advertise', 'dataDir', 'id', 'listen', 'members', 'memoryTier'], 'absent sections stay absent');
  t.same(memberOptions(minimal, 1).memoryTier, { arenaBytes: LIMITS.memoryTier.arenaBytes, sharedMemory: { dir: '/dev/shm' } }, 'a config without memory gets the 256 MiB arena, shared');
  const unshared = parseClusterConfig(`${MINIMAL}memory: { sharedMemory: false }\n`, 'unshared.yaml');
  t.same(memberOptions(unshared, 1).memoryTier, { arenaBytes: LIMITS.memoryTier.arenaBytes }, 'sharedMemory false: private memory');
  const off = parseClusterConfig(`${MINIMAL}memory: { arenaBytes: 0 }\nworkers: { threads: 0 }\n`, 'off.yaml');
  t.same(memberOptions(off, 1).memoryTier, { arenaBytes: 0 }, 'arenaBytes 0 turns the tier off');
  t.equal(memberOptions(off, 1).workerThreads, 0, 'threads 0: no pool');
  t.equal(ARENA_BYTES_MIN, SLAB_BYTES_DEFAULT, 'the smallest arena is one slab of the store\'s arena');
});

// Each row: a config, the field the message must name, and what it must say about it.
const BAD_FIELDS: [string, string, string, RegExp][] = [
  ['missing cluster', 'members: [{ id: 1, address: 127.0.0.1:1 }]', 'cluster', /required/],
  ['bad cluster name', 'cluster: "a b"\nmembers: [{ id: 1, address: 127.0.0.1:1 }]', 'cluster', /got "a b"/],
  ['missing members', 'cluster: c', 'members', /required/],
  ['empty members', 'cluster: c\nmembers: []', 'members', /expected a list of 1-15 members/],
  ['members not a list', 'cluster: c\nmembers: { id: 1 }', 'members', /got a mapping/],
  ['member not a mapping', 'cluster: c\nmembers: [7401]', 'members[0]', /expected a mapping, got 7401/],
  ['address not host:port', 'cluster: c\nmembers:\n  - { id: 1, address: 127.0.0.1:1 }\n  - { id: 2, address: 127.0.0.1:2 }\n  - { id: 3, address: foo }', 'members[2].address', /expected host:port.*got "foo"/],
  ['port out of range', 'cluster: c\nmembers: [{ id: 1, address: "h:70000" }]', 'members[0].address', /port 1-65535/],
  ['missing address', 'cluster: c\nmembers: [{ id: 1 }]', 'members[0].address', /required/],
  ['bad listen', 'cluster: c\nmembers: [{ id: 1, address: h:1, listen: ":1" }]', 'members[0].listen', /expected host:port/],
  ['bad metricsAddress', 'cluster: c\nmembers: [{ id: 1, address: h:1, metricsAddress: "h:70000" }]', 'members[0].metricsAddress', /port 0-65535, 0 = any free port/],
  ['metricsAddress without a port', 'cluster: c\nmembers: [{ id: 1, address: h:1, metricsAddress: "h" }]', 'members[0].metricsAddress', /expected host:port/],
  ['zero id', 'cluster: c\nmembers: [{ id: 0, address: h:1 }]', 'members[0].id', /expected an integer >= 1, got 0/],
  ['string id', 'cluster: c\nmembers: [{ id: "n1", address: h:1 }]', 'members[0].id', /got "n1"/],
  ['duplicate id', 'cluster: c\nmembers: [{ id: 1, address: h:1 }, { id: 1, address: h:2 }]', 'members[1].id', /duplicate id 1 \(also members\[0\]\)/],
  ['duplicate address', 'cluster: c\nmembers: [{ id: 1, address: h:1 }, { id: 2, address: h:1 }]', 'members[1].address', /duplicate address/],
  ['unknown member field', 'cluster: c\nmembers: [{ id: 1, address: h:1, port: 3 }]', 'members[0].port', /unknown field/],
  ['unknown top-level field', `${MINIMAL}fsynk: false`, 'fsynk', /unknown field \(expected one of cluster, dataDir/],
  ['empty dataDir', `${MINIMAL}dataDir: ""`, 'dataDir', /expected a directory path/],
  ['raft not a mapping', `${MINIMAL}raft: 100`, 'raft', /expected a mapping/],
  ['tickMs zero', `${MINIMAL}raft: { tickMs: 0 }`, 'raft.tickMs', /expected an integer 1\.\.10000, got 0/],
  ['heartbeat not below election', `${MINIMAL}raft: { electionTick: 3, heartbeatTick: 3 }`, 'raft.heartbeatTick', /must be below electionTick/],
  ['election at default heartbeat', `${MINIMAL}raft: { electionTick: 1 }`, 'raft.electionTick', /expected an integer 2\.\./],
  ['fsync not boolean', `${MINIMAL}storage: { fsync: "yes" }`, 'storage.fsync', /expected true or false, got "yes"/],
  ['decimal size unit', `${MINIMAL}storage: { budgetBytes: 4GB }`, 'storage.budgetBytes', /expected a size such as 64MiB.*got "4GB"/],
  ['budget below one page', `${MINIMAL}storage: { budgetBytes: 1MiB }`, 'storage.budgetBytes', /at least 32\.0 MiB \(one largest page\)/],
  ['segment below one entry', `${MINIMAL}storage: { walSegmentBytes: 1MiB }`, 'storage.walSegmentBytes', /too small: wal\.segmentBytes must hold one largest entry/],
  ['compaction below a segment', `${MINIMAL}compaction: { walBytes: 32MiB }`, 'compaction.walBytes', /at least 64\.0 MiB \(one WAL segment/],
  ['negative keepEntries', `${MINIMAL}compaction: { keepEntries: -1 }`, 'compaction.keepEntries', /expected an integer >= 0/],
  ['interval too short', `${MINIMAL}compaction: { intervalMs: 10 }`, 'compaction.intervalMs', /expected an integer >= 1000/],
  ['unknown compaction field', `${MINIMAL}compaction: { bytes: 1 }`, 'compaction.bytes', /unknown field/],
  ['memory not a mapping', `${MINIMAL}memory: 64MiB`, 'memory', /expected a mapping/],
  ['arena below one slab', `${MINIMAL}memory: { arenaBytes: 1MiB }`, 'memory.arenaBytes', /must be 0 \(no memory tier\) or 4\.0 MiB \(one slab\) to 1\.0 TiB, got 1\.0 MiB/],
  ['arena decimal unit', `${MINIMAL}memory: { arenaBytes: 256MB }`, 'memory.arenaBytes', /expected a size/],
  ['negative NUMA node', `${MINIMAL}memory: { numaNode: -1 }`, 'memory.numaNode', /expected an integer 0\.\.1023, got -1/],
  ['unknown memory field', `${MINIMAL}memory: { bytes: 1 }`, 'memory.bytes', /unknown field \(expected one of arenaBytes, numaNode, sharedMemory, sharedMemoryDir\)/],
  ['shared memory not a boolean', `${MINIMAL}memory: { sharedMemory: yes please }`, 'memory.sharedMemory', /expected true or false/],
  ['shared memory dir relative', `${MINIMAL}memory: { sharedMemoryDir: shm }`, 'memory.sharedMemoryDir', /expected an absolute directory path, got "shm"/],
  ['threads not an integer', `${MINIMAL}workers: { threads: two }`, 'workers.threads', /expected an integer 0\.\.256, got "two"/],
  ['unknown workers field', `${MINIMAL}workers: { count: 2 }`, 'workers.count', /unknown field/],
  ['token with spaces', `${MINIMAL}adminToken: "not secret"`, 'adminToken', /without spaces, got a string of 10 characters/],
  ['token not a string', `${MINIMAL}adminToken: 12345`, 'adminToken', /got 12345/],
  ['tracing without an endpoint', `${MINIMAL}tracing: { serviceName: kvc }`, 'tracing.otlpEndpoint', /required: the OTLP\/HTTP traces URL/],
  ['tracing endpoint not a URL', `${MINIMAL}tracing: { otlpEndpoint: "127.0.0.1:4318" }`, 'tracing.otlpEndpoint', /expected an http:\/\/ or https:\/\/ URL .*got "127\.0\.0\.1:4318"/],
  ['tracing endpoint not http', `${MINIMAL}tracing: { otlpEndpoint: "grpc://collector:4317" }`, 'tracing.otlpEndpoint', /expected an http:\/\/ or https:\/\/ URL/],
  ['tracing endpoint a number', `${MINIMAL}tracing: { otlpEndpoint: 4318 }`, 'tracing.otlpEndpoint', /got 4318/],
  ['sample ratio above 1', `${MINIMAL}tracing: { otlpEndpoint: "http://c:4318/v1/traces", sampleRatio: 2 }`, 'tracing.sampleRatio', /expected a number from 0 to 1.*got 2/],
  ['empty service name', `${MINIMAL}tracing: { otlpEndpoint: "http://c:4318/v1/traces", serviceName: "" }`, 'tracing.serviceName', /expected a name of 1-255 characters/],
  ['unknown tracing field', `${MINIMAL}tracing: { otlpEndpoint: "http://c:4318/v1/traces", exporter: otlp }`, 'tracing.exporter', /unknown field \(expected one of otlpEndpoint, serviceName, sampleRatio\)/],
  ['tracing not a mapping', `${MINIMAL}tracing: on`, 'tracing', /expected a mapping/],
];

t.test('each kind of bad field is reported with its name, the file and the line', async (t) => {
  for (const [what, text, field, problem] of BAD_FIELDS) {
    const error = configError(text);
    const issue = error.issues.find((i) => i.field === field);
    t.ok(issue, `${what}: an issue names ${field} (got: ${error.message})`);
    if (!issue) continue;
    t.match(issue.problem, problem, `${what}: says what is wrong`);
    t.type(issue.line, 'number', `${what}: gives the line`);
    t.ok(error.message.split('\n').some((line) => line.startsWith(`x.yaml: ${field}: `)), `${what}: message reads "x.yaml: ${field}: ..."`);
  }
});

t.test('the example of the brief, and all problems of one file at once, in file order', async (t) => {
  const text = 'cluster: x\nmembers:\n  - { id: 1, address: 127.0.0.1:7401 }\n  - { id: 2, address: 127.0.0.1:7402 }\n  - { id: 3, address: foo }\nraft: { tickMs: 0 }\n';
  const error = configError(text, 'cluster-configs/x.yaml');
  t.equal(error.issues.length, 2);
  t.equal(error.message.split('\n')[0], 'cluster-configs/x.yaml: members[2].address: expected host:port (port 1-65535), got "foo" (line 5)');
  t.match(error.message.split('\n')[1], /^cluster-configs\/x\.yaml: raft\.tickMs: .* \(line 6\)$/);
  t.equal(error.source, 'cluster-configs/x.yaml');
});

t.test('documents that are not a config at all', async (t) => {
  t.match(configError('cluster: c\nmembers: [\n').message, /^x\.yaml: invalid YAML: .*\(line \d+\)$/);
  t.match(configError('a: 1\na: 2\n').message, /invalid YAML: Map keys must be unique/);
  t.equal(configError('').message, 'x.yaml: the file is empty');
  t.match(configError('- 1\n- 2\n').message, /^x\.yaml: expected a mapping, got a list/);
  t.match(configError('just text').message, /expected a mapping, got "just text"/);
});

t.test('loading from files: missing, too large, valid', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'kvc-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await t.rejects(loadClusterConfig(path.join(dir, 'none.yaml')), { message: `${path.join(dir, 'none.yaml')}: cannot read the file (ENOENT)` });
  const big = path.join(dir, 'big.yaml');
  await writeFile(big, `# ${'x'.repeat(CONFIG_FILE_BYTES_MAX)}\n`);
  await t.rejects(loadClusterConfig(big), { message: /over the 1048576-byte limit/ });
  await t.rejects(loadClusterConfig(dir), { message: /cannot read the file \(EISDIR\)/ });
  const good = path.join(dir, 'good.yaml');
  await writeFile(good, MINIMAL);
  t.equal((await loadClusterConfig(good)).cluster, 'c1');
});

t.test('byte sizes', async (t) => {
  const cases: [unknown, number | undefined][] = [
    [1048576, 1048576],
    ['1048576', 1048576],
    ['64MiB', 64 * 1024 ** 2],
    ['64 mib', 64 * 1024 ** 2],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['2TiB', 2 * 1024 ** 4],
    ['512B', 512],
    ['0.5KiB', 512],
    ['64MB', undefined],
    ['-1', undefined],
    [-1, undefined],
    [1.5, undefined],
    ['MiB', undefined],
    [true, undefined],
    ['99999999999TiB', undefined],
  ];
  for (const [input, expected] of cases) t.equal(parseByteSize(input), expected, `${JSON.stringify(input)}`);
  t.equal(formatBytes(512), '512 B');
  t.equal(formatBytes(2 * 1024 * 1024), '2.0 MiB');
  t.equal(formatBytes(5 * 1024 ** 5), '5120.0 TiB');
});

t.test('the dev config: consecutive loopback ports, rendered and read back equal', async (t) => {
  const config = devClusterConfig({ nodes: 3, basePort: 9000, dataDir: '/tmp/kvc-dev-x' });
  t.same(config.members, [
    { id: 1, address: '127.0.0.1:9000', metricsAddress: '127.0.0.1:0' },
    { id: 2, address: '127.0.0.1:9001', metricsAddress: '127.0.0.1:0' },
    { id: 3, address: '127.0.0.1:9002', metricsAddress: '127.0.0.1:0' },
  ]);
  const text = renderClusterConfig(config, 'a header\nof two lines');
  t.match(text, /^# a header\n# of two lines\ncluster: dev\n/);
  t.same(parseClusterConfig(text, 'rendered.yaml'), config, 'reads back equal');
  const full = parseClusterConfig(
    `${MINIMAL}raft: { tickMs: 5 }\nstorage: { fsync: false }\ncompaction: { entries: 9 }\nmemory: { arenaBytes: 8MiB, numaNode: 0 }\nworkers: { threads: 1 }\nadminToken: tok\ntracing: { otlpEndpoint: "http://127.0.0.1:4318/v1/traces" }\n`,
    'f.yaml',
  );
  t.same(parseClusterConfig(renderClusterConfig(full), 'f2.yaml'), full, 'every section survives rendering');
  t.throws(() => devClusterConfig({ nodes: 0, basePort: 9000, dataDir: '/tmp/x' }), RangeError);
  t.throws(() => devClusterConfig({ nodes: 2, basePort: 65535, dataDir: '/tmp/x' }), /not all valid/);
});
