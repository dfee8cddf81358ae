// What the storage nemeses do to a member's files and filesystem (nemesis/disk-full.ts,
// nemesis/bit-rot.ts): put its data directory on a size-limited tmpfs and take it off again,
// flip bytes in files, and find what the member logged about it since its last start.
import { execFile, execFileSync } from 'node:child_process';
import { cp, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
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
 * Moves the (stopped) member's data directory `dir` onto a new tmpfs of `bytes`: the old
 * directory goes to `<dir>.disk`, the tmpfs is mounted at `dir` and the data copied onto it.
 * Returns the undo (copy back, unmount), which is also run by an 'exit' hook if the harness dies
 * first (then unmounting lazily, without copying).
 */
export async function moveOntoTmpfs(dir: string, bytes: number): Promise<{ undo(): Promise<void> }> {
  const aside = `${dir}.disk`;
  await rename(dir, aside);
  await mkdir(dir);
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'kvc-chaos-disk-full', dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    await rename(aside, dir);
    throw error;
  }
  const onExit = (): void => {
    try {
      execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
    } catch {
      // Already unmounted.
    }
  };
  process.on('exit', onExit);
  let undone: Promise<void> | undefined;
  const undo = async (): Promise<void> => {
    await rm(aside, { recursive: true, force: true });
    await cp(dir, aside, { recursive: true });
    await run('umount', [dir]);
    process.off('exit', onExit);
    await rm(dir, { recursive: true, force: true });
    await rename(aside, dir);
  };
  try {
    await cp(aside, dir, { recursive: true });
  } catch (error) {
    await undo();
    throw error;
  }
  return { undo: () => (undone ??= undo()) };
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
