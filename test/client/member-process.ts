// A one-member cluster as a real process (`kvc start`) with its arena in shared-memory files, for
// the tests of the same-host paths (shared-memory-process, shared-lookup-process): a temp dir with
// its config, a free port, and `start()`, which may be called again after a kill; every process
// still running is SIGKILLed and the dir removed at the end of the test.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { KVC_BIN, childEnv, freePortRange } from '../cli/helpers.js';

/** Where the members' shared-memory files go: tmpfs when the machine has it. */
export const SHM_DIR = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();

export interface MemberProcess {
  address: string;
  /** Starts the member (again); its process is killed at the end of the test if still running. */
  start(): ChildProcess;
  /** Resolves once `child` has exited. */
  exited(child: ChildProcess): Promise<void>;
}

export async function sharedMemoryMember(t: Test, cluster: string): Promise<MemberProcess> {
  const dir = await mkdtemp(path.join(tmpdir(), `kvc-${cluster}-`));
  const port = await freePortRange(1);
  const config = path.join(dir, 'cluster.yaml');
  await writeFile(config, [
    `cluster: ${cluster}`,
    `dataDir: ${path.join(dir, 'data')}`,
    'members:',
    `  - { id: 1, address: 127.0.0.1:${port} }`,
    'storage: { fsync: false }',
    `memory: { arenaBytes: 16MiB, sharedMemoryDir: ${SHM_DIR} }`,
    '',
  ].join('\n'));
  const children: ChildProcess[] = [];
  const exited = (child: ChildProcess): Promise<void> =>
    child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map(exited));
    await rm(dir, { recursive: true, force: true });
  });
  return {
    address: `127.0.0.1:${port}`,
    start: () => {
      const child = spawn(process.execPath, [KVC_BIN, 'start', '--config', config, '--id', '1'], { stdio: 'ignore', env: childEnv() });
      children.push(child);
      return child;
    },
    exited,
  };
}
