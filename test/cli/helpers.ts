// Shared helpers for the CLI tests: run `kvc` (bin/kvc.js) as a real process, find a free range of
// loopback ports, and start a `kvc dev` cluster that is always torn down, its members included;
// or run some commands in this process with their output captured (runKvcInProcess).
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { freePortRange, pidAlive } from '../../scripts/bench/ports.js';
import { runProgram } from '../../src/cli/run-program.js';

export { freePortRange, pidAlive };

export const KVC_BIN = fileURLToPath(new URL('../../bin/kvc.js', import.meta.url));

/**
 * The environment for child processes the tests spawn. Children load TypeScript through tsx,
 * whose source maps make V8 coverage misplace lines, and merged with the test processes' own
 * coverage that garbles the report. tap's @tapjs/processinfo records a child's coverage unless
 * `_TAPJS_PROCESSINFO_COVERAGE_` is '0' (it re-adds its NODE_OPTIONS hook to every spawn), so
 * only the test processes, whose maps are right, count.
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, _TAPJS_PROCESSINFO_COVERAGE_: '0' };
  delete env.NODE_V8_COVERAGE;
  return env;
}
/** A CLI command that talks to a local cluster finishes in a few seconds; this bounds a hung one. */
const RUN_TIMEOUT_MS = 30_000;
/** `kvc dev` loads TypeScript in N processes and elects a leader; on 2 cores this takes seconds. */
const DEV_UP_TIMEOUT_MS = 45_000;

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `kvc args...` to completion (killed after `timeoutMs`). */
export function runKvc(args: string[], o: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KVC_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv(o.env) });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? RUN_TIMEOUT_MS);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Polls until every pid is gone; returns those still alive after `timeoutMs`. */
export async function waitForPidsGone(pids: number[], timeoutMs: number): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(pidAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    alive = alive.filter(pidAlive);
  }
  return alive;
}

export interface DevLine {
  endpoints: string[];
  pids: number[];
  leader: number;
  dataDir: string;
  config: string;
}

export interface DevCluster {
  process: ChildProcess;
  line: DevLine;
  /** All stderr so far (member logs and kvc dev's own lines). */
  stderr(): string;
  /** Resolves with the exit of `kvc dev`. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Teardown {
  teardown(fn: () => unknown): void;
}

/**
 * Starts `kvc dev --json` and resolves once it printed its line. The teardown stops it with
 * SIGTERM and, whatever happens, SIGKILLs it and every member pid it reported.
 */
export async function startDev(t: Teardown, args: string[]): Promise<DevCluster> {
  const child = spawn(process.execPath, [KVC_BIN, 'dev', '--json', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv() });
  let stdout = '';
  let stderr = '';
  let memberPids: number[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      // The bound's timer is cleared once `kvc dev` exits: left pending, it kept the test process
      // alive for the full 15 s after its last test.
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([exited, new Promise((r) => (bound = setTimeout(r, 15_000)))]);
      clearTimeout(bound);
    }
    for (const pid of [child.pid!, ...memberPids]) if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const line = await new Promise<DevLine>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kvc dev printed no line in ${DEV_UP_TIMEOUT_MS} ms; stderr:\n${stderr.slice(-4000)}`)), DEV_UP_TIMEOUT_MS);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline === -1) return;
      clearTimeout(timer);
      try {
        resolve(JSON.parse(stdout.slice(0, newline)) as DevLine);
      } catch (error) {
        reject(error as Error);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`kvc dev exited (${code ?? signal}) before its line; stderr:\n${stderr.slice(-4000)}`));
    });
  });
  memberPids = line.pids;
  return { process: child, line, stderr: () => stderr, exited };
}

/**
 * Runs `kvc ...args` in this process on a program holding only the commands `register` adds
 * (loading the whole program would put every command module in the coverage report at its
 * registration lines), with stdout and stderr captured: its exit status and what it printed.
 */
export async function runKvcInProcess(register: (program: Command) => void, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const writeOut = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = ((chunk: string) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const program = new Command('kvc').exitOverride().configureOutput({ writeErr: (text) => err.push(text) });
    register(program);
    const code = await runProgram(program, ['node', 'kvc', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
    process.exitCode = undefined;
  }
}
