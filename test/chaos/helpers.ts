// Helpers of the chaos harness's process tests: a temp directory per test, and the member
// processes a run started, read from the member logs in its report directory (`kvc start` logs
// "serving at ... (pid N, data ...)"), to prove none outlives the run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';

export function tempDir(t: Test, prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Every member pid the logs in `logDir` name. */
export function memberPids(logDir: string): number[] {
  const pids: number[] = [];
  if (!fs.existsSync(logDir)) return pids;
  for (const file of fs.readdirSync(logDir)) {
    for (const match of fs.readFileSync(path.join(logDir, file), 'utf8').matchAll(/\(pid (\d+), data /g)) pids.push(Number(match[1]));
  }
  return pids;
}
