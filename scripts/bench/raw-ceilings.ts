// What this machine allows for moving a page from one process to another, measured in the same run
// as our reads (the `peers` read side): grpc-js streaming a static buffer between two processes
// (raw-server.ts grpc) with our channel and server options, plain Node TCP between two processes
// (raw-server.ts tcp), one unary gRPC round trip as small as a Lookup (raw-server.ts grpc), and a memcpy of the same bytes within one process. Each is bounded in
// count and seconds, and every server process is stopped in bounded time.
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { CLIENT_CHANNEL_OPTIONS } from '../../src/client/endpoint-pool.js';
import { driveInflight, type InflightPlan, type InflightRun } from './peers-helpers.js';
import { TailBuffer, cpuMeter, forgetOnExit, killOnExit, readFirstJsonLine, stopChild } from './processes.js';
import { RAW_PAGE_BYTES, RAW_STREAM_PATH, RAW_UNARY_PATH } from './raw-server.js';

const RAW_SERVER = fileURLToPath(new URL('./raw-server.ts', import.meta.url));
/** tsx compiles the server on start; on a loaded 2-core machine that takes seconds. */
const SERVER_UP_TIMEOUT_MS = 30_000;
const SERVER_STOP_GRACE_MS = 5_000;
/** A 2 MiB stream past this is a failure, not a slow sample. */
const STREAM_DEADLINE_MS = 30_000;
/** memcpy: source pages cycled through (64 MiB), so the source is not in a CPU cache. */
const MEMCPY_SOURCE_PAGES = 32;

interface RawServer {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts raw-server.ts in its own process; its stdin is a pipe, so it also ends when this process does. */
async function startRawServer(kind: 'grpc' | 'tcp'): Promise<RawServer> {
  const child = spawn(process.execPath, ['--import', 'tsx', RAW_SERVER, kind], { stdio: ['pipe', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('could not start the raw server');
  killOnExit(child.pid);
  const log = new TailBuffer();
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => log.push(chunk));
  const stop = async (): Promise<void> => {
    await stopChild(child, SERVER_STOP_GRACE_MS);
    forgetOnExit(child.pid!);
  };
  try {
    return { port: (await readFirstJsonLine<{ port: number }>(child, log, 'raw server', SERVER_UP_TIMEOUT_MS)).port, pid: child.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

const identity = (bytes: Buffer): Buffer => bytes;
const EMPTY = Buffer.alloc(0);

/** One raw page: its chunks copied into `target`, as a reader that wants the page in one piece must. */
function readRawPage(client: grpc.Client, target: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const call = client.makeServerStreamRequest(RAW_STREAM_PATH, identity, identity, EMPTY, new grpc.Metadata(), {
      deadline: new Date(Date.now() + STREAM_DEADLINE_MS),
    });
    let filled = 0;
    call.on('data', (chunk: Buffer) => {
      filled += chunk.copy(target, filled);
    });
    call.on('error', reject);
    call.on('end', () => (filled === RAW_PAGE_BYTES ? resolve() : reject(new Error(`raw stream ended after ${filled} bytes`))));
  });
}

/**
 * grpc-js at its best on this machine: `plan.inflight` server-streaming calls at a time, each one
 * 2 MiB page in 1 MiB messages from another process, with the client's channel options.
 */
export async function rawGrpcCeiling(plan: Omit<InflightPlan, 'first'>): Promise<{ run: InflightRun; serverCpuMs: number; clientCpuMs: number }> {
  const server = await startRawServer('grpc');
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { ...CLIENT_CHANNEL_OPTIONS });
  try {
    const targets = Array.from({ length: plan.inflight }, () => Buffer.alloc(RAW_PAGE_BYTES));
    const read = (i: number): Promise<void> => readRawPage(client, targets[i % plan.inflight]!);
    await driveInflight(read, RAW_PAGE_BYTES, { first: 0, inflight: plan.inflight, putsMax: 2 * plan.inflight, durationMsMax: plan.durationMsMax });
    const cpu = cpuMeter([server.pid]);
    const run = await driveInflight(read, RAW_PAGE_BYTES, { ...plan, first: 0 });
    return { run, ...cpu() };
  } finally {
    client.close();
    await server.stop();
  }
}

/** A raw unary method served by another process: `call()` sends one request and waits for its answer. */
export interface RawUnary {
  pid: number;
  call(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * grpc-js's own cost of one small round trip (Lookup's floor): raw-server.ts in its own process,
 * the member's server options and the client's channel options, identity serializers, a
 * `requestBytes` request answered with 2 bytes. Nothing is decoded or looked up on either side.
 */
export async function startRawUnary(requestBytes: number): Promise<RawUnary> {
  const server = await startRawServer('grpc');
  const client = new grpc.Client(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure(), { ...CLIENT_CHANNEL_OPTIONS });
  const request = Buffer.alloc(requestBytes, 0x2a);
  const call = (): Promise<void> =>
    new Promise((resolve, reject) => {
      client.makeUnaryRequest(RAW_UNARY_PATH, identity, identity, request, new grpc.Metadata(), { deadline: new Date(Date.now() + STREAM_DEADLINE_MS) }, (error, answer) =>
        error ? reject(error) : answer?.byteLength === 2 ? resolve() : reject(new Error(`raw unary answered ${answer?.byteLength} bytes`)),
      );
    });
  return {
    pid: server.pid,
    call,
    stop: async () => {
      client.close();
      await server.stop();
    },
  };
}

/**
 * Plain TCP from another process: bytes received on one connection for at most `bytesMax` or
 * `durationMs`, with the CPU the sending process (`serverCpuMs`) and this receiving one
 * (`clientCpuMs`) spent meanwhile: what moving the bytes costs below any protocol.
 */
export async function rawTcpCeiling(bytesMax: number, durationMs: number): Promise<{ bytes: number; elapsedMs: number; serverCpuMs: number; clientCpuMs: number }> {
  const server = await startRawServer('tcp');
  try {
    return await new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: server.port });
      let bytes = 0;
      let started = 0;
      let cpu = cpuMeter([server.pid]);
      let done = false;
      let endTimer: NodeJS.Timeout | undefined;
      const connectTimer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`no TCP connection to the raw server in ${SERVER_UP_TIMEOUT_MS} ms`));
      }, SERVER_UP_TIMEOUT_MS);
      const finish = (): void => {
        if (done) return;
        done = true;
        clearTimeout(endTimer);
        socket.destroy();
        resolve({ bytes, elapsedMs: performance.now() - started, ...cpu() });
      };
      socket.on('connect', () => {
        clearTimeout(connectTimer);
        started = performance.now();
        cpu = cpuMeter([server.pid]);
        endTimer = setTimeout(finish, durationMs);
      });
      socket.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength;
        if (bytes >= bytesMax) finish();
      });
      socket.on('error', (error) => {
        clearTimeout(connectTimer);
        clearTimeout(endTimer);
        reject(error);
      });
    });
  } finally {
    await server.stop();
  }
}

/** Buffer.copy of 2 MiB pages (from a 64 MiB source) into one preallocated buffer, bounded in bytes and time. */
export function memcpyCeiling(bytesMax: number, durationMs: number): { bytes: number; elapsedMs: number } {
  const source = Buffer.alloc(MEMCPY_SOURCE_PAGES * RAW_PAGE_BYTES, 1);
  const target = Buffer.alloc(RAW_PAGE_BYTES);
  // One pass first: the source's pages are then mapped, as a member's arena is.
  for (let page = 0; page < MEMCPY_SOURCE_PAGES; page++) source.copy(target, 0, page * RAW_PAGE_BYTES, (page + 1) * RAW_PAGE_BYTES);
  let bytes = 0;
  const started = performance.now();
  for (let page = 0; bytes < bytesMax && performance.now() - started < durationMs; page = (page + 1) % MEMCPY_SOURCE_PAGES) {
    bytes += source.copy(target, 0, page * RAW_PAGE_BYTES, (page + 1) * RAW_PAGE_BYTES);
  }
  return { bytes, elapsedMs: performance.now() - started };
}
