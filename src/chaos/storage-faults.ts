// What the storage nemeses do to a member's files and filesystem (nemesis/disk-full.ts,
// nemesis/bit-rot.ts): mount, shrink, grow and unmount a tmpfs under a member's data, flip bytes
// in files, and find what the member logged since its last start.
import { execFile, execFileSync } from 'node:child_process';
import { mkdir, open, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Prng } from '../sim/index.js';

const run = promisify(execFile);
/** The harness's marker in a member's log at every start (cluster.ts). */
const START_MARKER = '==== chaos: starting member';

/** Whether this process may mount a filesystem (Linux, root). */
export function canMount(): boolean {
  return process.platform === 'linux' && process.getuid?.() === 0;
}

/** Bytes of every file under `dir`. */
export async function dirBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await stat(path.join(entry.parentPath, entry.name))).size;
  }
  return total;
}

/**
 * Mounts a tmpfs of `bytes` at `dir` (an empty directory, made here) and returns how to resize
 * and unmount it. An 'exit' hook unmounts it lazily if the harness dies before `unmount`.
 */
export async function mountTmpfs(dir: string, bytes: number): Promise<{ resize(bytes: number): Promise<void>; unmount(): Promise<void> }> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'kvc-chaos', dir]);
  const onExit = (): void => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // Already unmounted.
    }
  };
  process.on('exit', onExit);
  return {
    resize: async (size) => {
      await run('mount', ['-o', `remount,size=${size}`, dir]);
    },
    unmount: async () => {
      await run('umount', [dir]);
      process.off('exit', onExit);
    },
  };
}

/** Flips one random bit pattern in each of `count` random bytes of `file`; returns how many it flipped. */
export async function flipBytes(file: string, count: number, prng: Prng): Promise<number> {
  const handle = await open(file, 'r+');
  try {
    const { size } = await handle.stat();
    if (size === 0) return 0;
    const byte = Buffer.alloc(1);
    for (let i = 0; i < count; i++) {
      const at = prng.int(size);
      await handle.read(byte, 0, 1, at);
      byte[0] = byte[0]! ^ prng.range(1, 255);
      await handle.write(byte, 0, 1, at);
    }
    return count;
  } finally {
    await handle.close();
  }
}

/** The member's log since its last start by the harness ('' when unreadable). */
export async function logSinceStart(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  const at = text.lastIndexOf(START_MARKER);
  return at < 0 ? text : text.slice(at);
}
