// Proves that the NUMA topology is read from sysfs as native/src/numa.h describes, identically by
// the addon (C++) and by the TypeScript fallback (src/native/numa.ts): fake sysfs trees with 1, 2
// and 4 nodes, written to a temp dir, give the expected nodes, CPUs and memory with both parsers;
// so do awkward trees (missing files, malformed and blank cpulist tokens, out-of-range ids,
// node1 beside node01, a file named like a node, entries that are not nodes). A missing root
// falls back to one node with every CPU and all memory, and this machine's own tree has node 0.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { NativeApi } from '../../src/native/api.js';
import { numaTopology, type NumaNodeInfo } from '../../src/native/index.js';
import { parseCpuList, parseMemTotalBytes, readNumaTopology } from '../../src/native/numa.js';
import { skipWithoutAddon } from './helpers.js';

interface FakeNode {
  /** The directory name (node<N>, or something awkward). */
  name: string;
  /** cpulist's text; undefined: no file. */
  cpulist?: string;
  /** meminfo's text; undefined: no file. */
  meminfo?: string;
}

const KIB = 1024;

function meminfo(node: number, kib: number): string {
  return `Node ${node} MemTotal:       ${kib} kB\nNode ${node} MemFree:        12345 kB\nNode ${node} MemUsed:   999 kB\n`;
}

/** Writes a fake /sys/devices/system/node under a fresh temp dir (removed at the end of `t`). */
function fakeSysfs(t: Test, nodes: FakeNode[], extra: (root: string) => void = () => {}): string {
  const root = mkdtempSync(path.join(os.tmpdir(), 'kvc-numa-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  for (const file of ['online', 'possible', 'has_cpu', 'has_memory']) writeFileSync(path.join(root, file), '0-3\n');
  mkdirSync(path.join(root, 'power'));
  for (const node of nodes) {
    mkdirSync(path.join(root, node.name));
    if (node.cpulist !== undefined) writeFileSync(path.join(root, node.name, 'cpulist'), node.cpulist);
    if (node.meminfo !== undefined) writeFileSync(path.join(root, node.name, 'meminfo'), node.meminfo);
  }
  extra(root);
  return root;
}

/** Both parsers on `root`: the addon's raw result (when loaded) must equal the TypeScript one. */
function bothParsers(t: Test, root: string): NumaNodeInfo[] {
  const fromTs = readNumaTopology(root);
  if (skipWithoutAddon === false) t.same(numaTopology(root), fromTs, 'the addon and the TypeScript parser agree');
  return fromTs;
}

const TREES: { name: string; nodes: FakeNode[]; expected: NumaNodeInfo[] }[] = [
  {
    name: '1 node',
    nodes: [{ name: 'node0', cpulist: '0-7\n', meminfo: meminfo(0, 16_384_000) }],
    expected: [{ id: 0, cpus: [0, 1, 2, 3, 4, 5, 6, 7], memoryBytes: 16_384_000 * KIB }],
  },
  {
    name: '2 nodes',
    nodes: [
      { name: 'node1', cpulist: '8-15,24-31\n', meminfo: meminfo(1, 65_901_000) },
      { name: 'node0', cpulist: '0-7,16-23\n', meminfo: meminfo(0, 65_000_004) },
    ],
    expected: [
      { id: 0, cpus: [...range(0, 7), ...range(16, 23)], memoryBytes: 65_000_004 * KIB },
      { id: 1, cpus: [...range(8, 15), ...range(24, 31)], memoryBytes: 65_901_000 * KIB },
    ],
  },
  {
    name: '4 nodes, one without CPUs (memory only)',
    nodes: [
      { name: 'node0', cpulist: '0-3', meminfo: meminfo(0, 1000) },
      { name: 'node2', cpulist: '8,9,10-11\n', meminfo: meminfo(2, 3000) },
      { name: 'node3', cpulist: '\n', meminfo: meminfo(3, 4000) },
      { name: 'node10', cpulist: '4-7\n', meminfo: meminfo(10, 2000) },
    ],
    expected: [
      { id: 0, cpus: [0, 1, 2, 3], memoryBytes: 1000 * KIB },
      { id: 2, cpus: [8, 9, 10, 11], memoryBytes: 3000 * KIB },
      { id: 3, cpus: [], memoryBytes: 4000 * KIB },
      { id: 10, cpus: [4, 5, 6, 7], memoryBytes: 2000 * KIB },
    ],
  },
];

function range(low: number, high: number): number[] {
  return Array.from({ length: high - low + 1 }, (_, i) => low + i);
}

for (const tree of TREES) {
  t.test(`a fake tree with ${tree.name}`, async (t) => {
    t.same(bothParsers(t, fakeSysfs(t, tree.nodes)), tree.expected, 'the expected nodes, CPUs and memory');
  });
}

t.test('awkward trees read the same with both parsers', async (t) => {
  const root = fakeSysfs(
    t,
    [
      { name: 'node0' }, // no cpulist, no meminfo
      { name: 'node01', cpulist: ' 3 , 1-2,1,x,4-2,-1,5-,65535-65536,\t7\r\n', meminfo: 'MemTotal: 12 kB' },
      { name: 'node1', cpulist: '000000009,1234567890', meminfo: 'Node 1 MemFree: 5 kB\n' },
      { name: 'node2', cpulist: '65534-65535', meminfo: 'Node 2 MemTotal:\t 1234567890123456789 kB\n' },
      { name: 'node3x', cpulist: '0' },
      { name: 'nodeA', cpulist: '0' },
      { name: 'node', cpulist: '0' },
      { name: 'node1234567890', cpulist: '0' },
    ],
    (root) => writeFileSync(path.join(root, 'node9'), 'a file, not a directory'),
  );
  t.same(bothParsers(t, root), [
    { id: 0, cpus: [], memoryBytes: 0 },
    { id: 1, cpus: [1, 2, 3, 7], memoryBytes: 12 * KIB }, // node01 sorts before node1
    { id: 1, cpus: [9], memoryBytes: 0 },
    { id: 2, cpus: [65534, 65535], memoryBytes: 123456789012345 * KIB },
  ]);
});

t.test('a missing root or a root without nodes gives one node with every CPU and all memory', async (t) => {
  const expected = [{ id: 0, cpus: os.cpus().map((_, i) => i), memoryBytes: os.totalmem() }];
  const missing = path.join(os.tmpdir(), `kvc-numa-missing-${process.pid}`);
  t.same(readNumaTopology(missing), [], 'the parser alone finds nothing');
  t.same(numaTopology(missing), expected, 'numaTopology falls back (with the addon when loaded)');
  t.same(new NativeApi({ addon: null, reason: 'test' }).numaTopology(missing), expected, 'and without it');
  t.same(numaTopology(fakeSysfs(t, [])), expected, 'a root with no node directories falls back too');
  t.throws(() => numaTopology(42 as never), TypeError);
});

t.test("this machine's topology", async (t) => {
  const nodes = numaTopology();
  t.ok(nodes.length >= 1, `${nodes.length} node(s)`);
  t.ok(nodes.some((node) => node.cpus.length > 0), 'some node has CPUs');
  t.ok(nodes.every((node) => node.memoryBytes > 0), 'every node has memory');
  nodes[0]!.cpus.push(-1);
  t.not(numaTopology()[0]!.cpus.at(-1), -1, 'callers get copies: changing one does not change the next answer');
});

t.test('the token rules', async (t) => {
  t.same(parseCpuList(''), []);
  t.same(parseCpuList('0-3,8-11'), [0, 1, 2, 3, 8, 9, 10, 11]);
  t.same(parseCpuList('5,5,4-5'), [4, 5], 'sorted, without duplicates');
  t.same(parseCpuList('1 - 3'), [], 'blanks inside a token make it invalid');
  t.equal(parseMemTotalBytes('Node 0 MemTotal:       10709196 kB'), 10709196 * KIB);
  t.equal(parseMemTotalBytes('MemTotal: kB'), 0, 'no digits');
  t.equal(parseMemTotalBytes(''), 0, 'no MemTotal');
});
