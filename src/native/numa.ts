// The TypeScript reading of the NUMA topology from sysfs, used without the addon. It follows the
// rules written in native/src/numa.h exactly (test/native/numa-topology.test.ts compares both on
// fake trees): node<digits> directories sorted by id (then name), cpulist tokens `A` or `A-B`,
// the first `MemTotal:` of meminfo in kB, missing files read as no CPUs and 0 bytes. Files are
// read as latin1 so every byte maps to one character, as the C++ side sees them.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { NumaNodeInfo } from './types.js';

/** The highest CPU id a cpulist may name (kCpuIdMax in numa.h). */
export const CPU_ID_MAX = 65535;
const NODE_DIRECTORY = /^node(\d{1,9})$/;
const CPU_TOKEN = /^(\d{1,9})(?:-(\d{1,9}))?$/;
const TOKEN_BLANKS = /^[ \t\r\n]+|[ \t\r\n]+$/g;
const MEM_TOTAL_KEY = 'MemTotal:';
const MEM_TOTAL_VALUE = /^[ \t]*(\d{1,15})/;
const BYTES_PER_KIB = 1024;

export function parseCpuList(text: string): number[] {
  const cpus = new Set<number>();
  for (const raw of text.split(',')) {
    const match = CPU_TOKEN.exec(raw.replace(TOKEN_BLANKS, ''));
    if (match === null) continue;
    const low = Number(match[1]);
    const high = match[2] === undefined ? low : Number(match[2]);
    if (low > high || high > CPU_ID_MAX) continue;
    for (let cpu = low; cpu <= high; cpu++) cpus.add(cpu);
  }
  return [...cpus].sort((a, b) => a - b);
}

export function parseMemTotalBytes(text: string): number {
  const at = text.indexOf(MEM_TOTAL_KEY);
  if (at < 0) return 0;
  const match = MEM_TOTAL_VALUE.exec(text.slice(at + MEM_TOTAL_KEY.length));
  return match === null ? 0 : Number(match[1]) * BYTES_PER_KIB;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/** The nodes under `root`; empty when the root is missing or holds no node directories. */
export function readNumaTopology(root: string): NumaNodeInfo[] {
  let names: string[];
  try {
    names = readdirSync(root, { encoding: 'latin1' });
  } catch {
    return [];
  }
  const found: { name: string; node: NumaNodeInfo }[] = [];
  for (const name of names) {
    const match = NODE_DIRECTORY.exec(name);
    const dir = path.join(root, name);
    if (match === null || !isDirectory(dir)) continue;
    const cpulist = readText(path.join(dir, 'cpulist'));
    const meminfo = readText(path.join(dir, 'meminfo'));
    found.push({
      name,
      node: {
        id: Number(match[1]),
        cpus: cpulist === undefined ? [] : parseCpuList(cpulist),
        memoryBytes: meminfo === undefined ? 0 : parseMemTotalBytes(meminfo),
      },
    });
  }
  found.sort((a, b) => a.node.id - b.node.id || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return found.map(({ node }) => node);
}
