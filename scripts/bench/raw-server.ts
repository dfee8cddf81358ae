// The server half of the `peers` read side's raw ceilings, run as its own process so that the
// bytes cross a process boundary as a member's do (`node --import tsx scripts/bench/raw-server.ts
// grpc|tcp`). It listens on 127.0.0.1 port 0, prints `{"port": N}` as one line, and serves one
// static buffer until stdin closes or it gets SIGTERM:
// - grpc: a grpc-js server with the member's server options (src/rpc serverOptions: window and
//   message limits) and one server-streaming method whose serializer is the identity, so nothing
//   is encoded; every call streams one page of `pageBytes` in chunks of LIMITS.page.chunkBytes,
//   waiting on backpressure as GetPages does. No protobuf, no store, no checksum: what grpc-js
//   itself costs.
//   A second, unary method answers every request with the same 2 bytes (a LookupResponse that
//   says 16 matched): the floor of one gRPC round trip between two processes, for Lookup.
// - tcp: a plain net server that writes the buffer over and over to each connection, honouring
//   backpressure, until the client closes it.
import * as grpc from '@grpc/grpc-js';
import net from 'node:net';
import { LIMITS } from '../../src/limits.js';
import { tuneAllocator } from '../../src/native/index.js';
import { serverOptions } from '../../src/rpc/protos.js';
import { MIB } from './measure.js';

/** The path of the raw method; the request (ignored) and the chunks are bare bytes. */
export const RAW_STREAM_PATH = '/kvcbench.Raw/Stream';
/** The path of the raw unary method: any request, a fixed 2-byte answer. */
export const RAW_UNARY_PATH = '/kvcbench.Raw/Unary';
/** LookupResponse { matched: 16 } as protobuf: what a Lookup of 16 stored keys answers. */
const UNARY_ANSWER = Buffer.from([0x08, 0x10]);
export const RAW_PAGE_BYTES = 2 * MIB;

const identity = (bytes: Buffer): Buffer => bytes;

export const RAW_SERVICE: grpc.ServiceDefinition = {
  Stream: {
    path: RAW_STREAM_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
  Unary: {
    path: RAW_UNARY_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

/** Incompressible-looking bytes; their values do not matter to either transport. */
function staticPage(bytes: number): Buffer {
  const page = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) page.writeUInt32LE((i * 2654435761) >>> 0, i);
  return page;
}

function drained(call: grpc.ServerWritableStream<Buffer, Buffer>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      call.off('drain', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('close', done);
  });
}

async function streamPage(call: grpc.ServerWritableStream<Buffer, Buffer>, page: Buffer): Promise<void> {
  const chunkBytes = LIMITS.page.chunkBytes;
  for (let offset = 0; offset < page.byteLength && !call.cancelled; offset += chunkBytes) {
    if (!call.write(page.subarray(offset, Math.min(offset + chunkBytes, page.byteLength)))) await drained(call);
  }
  call.end();
}

function serveGrpc(page: Buffer): Promise<{ port: number; stop: () => void }> {
  const server = new grpc.Server(serverOptions());
  server.addService(RAW_SERVICE, {
    Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => void streamPage(call, page),
    Unary: (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, UNARY_ANSWER),
  });
  return new Promise((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error) return reject(error);
      return resolve({ port, stop: () => server.forceShutdown() });
    });
  });
}

function serveTcp(page: Buffer): Promise<{ port: number; stop: () => void }> {
  const server = net.createServer((socket) => {
    socket.on('error', () => socket.destroy());
    const pump = (): void => {
      while (!socket.destroyed && socket.write(page));
    };
    socket.on('drain', pump);
    pump();
  });
  return new Promise((resolve) => {
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      resolve({ port: (server.address() as net.AddressInfo).port, stop: () => server.close() });
    });
  });
}

async function main(kind: string | undefined): Promise<void> {
  // The ceiling of grpc-js as a member runs it, allocator settings included.
  tuneAllocator();
  const page = staticPage(RAW_PAGE_BYTES);
  if (kind !== 'grpc' && kind !== 'tcp') throw new Error(`usage: raw-server.ts grpc|tcp (got ${kind})`);
  const served = kind === 'grpc' ? await serveGrpc(page) : await serveTcp(page);
  const stop = (): never => {
    served.stop();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.stdin.on('end', stop).on('close', stop).resume();
  process.stdout.write(`${JSON.stringify({ port: served.port })}\n`);
}

// Only when run as a process; the bench imports RAW_SERVICE and the constants.
if (process.argv[1]?.endsWith('raw-server.ts')) await main(process.argv[2]);
