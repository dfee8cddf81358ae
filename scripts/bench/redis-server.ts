// Redis for the `peers` read side: Debian's `redis-server` started here on a loopback port picked
// here, in a temp dir, with persistence off (`--save ""`, `--appendonly no`: a cache, as LMCache
// runs it), and an ioredis client to it. Stopping is bounded in time (SIGTERM, then SIGKILL), and
// the process is killed with this one should the benchmark die first. Nothing is ever installed.
import { spawn, spawnSync } from 'node:child_process';
import { Redis } from 'ioredis';
import { waitFor } from './measure.js';
import { TailBuffer, forgetOnExit, freePortRange, killOnExit, stopChild } from './processes.js';

/** redis-server is up in milliseconds; seconds on a loaded machine. */
const REDIS_UP_TIMEOUT_MS = 20_000;
const REDIS_STOP_GRACE_MS = 5_000;
/** A 2 MiB GET or SET past this is a failure, not a slow sample. */
const COMMAND_TIMEOUT_MS = 30_000;

export interface RedisServer {
  client: Redis;
  pid: number;
  stop(): Promise<void>;
}

/** "7.0.15" from `redis-server --version`, or 'unknown version'. */
export function redisVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: REDIS_STOP_GRACE_MS });
  return /v=(\S+)/.exec(out.stdout ?? '')?.[1] ?? 'unknown version';
}

export async function startRedis(binary: string, dir: string): Promise<RedisServer> {
  const port = await freePortRange(1);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${binary}`);
  killOnExit(child.pid);
  const log = new TailBuffer();
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, commandTimeout: COMMAND_TIMEOUT_MS, retryStrategy: () => null });
  client.on('error', () => undefined); // Failures surface as rejected commands.
  const stop = async (): Promise<void> => {
    client.disconnect();
    await stopChild(child, REDIS_STOP_GRACE_MS);
    forgetOnExit(child.pid!);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}):\n${log.text()}`);
        try {
          await client.connect();
          return (await client.ping()) === 'PONG';
        } catch {
          client.disconnect();
          return false;
        }
      },
      REDIS_UP_TIMEOUT_MS,
      `redis-server on port ${port}`,
    );
    return { client, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
