// One gRPC attempt of each shape (unary, server stream, client stream) on a generic grpc.Client,
// always with a deadline. Failures come out as grpc-js ServiceErrors (the caller translates them
// with toClientError); retrying is the caller's business (retry.ts).

import type * as grpc from '@grpc/grpc-js';
import type { Rpc } from './protos.js';

function deadline(deadlineMs: number): Date {
  return new Date(Date.now() + deadlineMs);
}

export function unaryCall<Req, Res>(
  client: grpc.Client,
  rpc: Rpc<Req, Res>,
  request: Req,
  metadata: grpc.Metadata,
  deadlineMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(rpc.path, rpc.serialize, rpc.deserialize, request, metadata, { deadline: deadline(deadlineMs) }, (error, response) => {
      if (error) return reject(error);
      return resolve(response as Res);
    });
  });
}

/**
 * A server stream to iterate with `for await`; errors reach the iterator. The no-op 'error'
 * listener matters: when the consumer stops early the caller cancels the call, and grpc-js then
 * emits a CANCELLED error that, with no listener left, would be an uncaught exception.
 */
export function serverStream<Req, Res>(
  client: grpc.Client,
  rpc: Rpc<Req, Res>,
  request: Req,
  metadata: grpc.Metadata,
  deadlineMs: number,
): grpc.ClientReadableStream<Res> {
  const call = client.makeServerStreamRequest(rpc.path, rpc.serialize, rpc.deserialize, request, metadata, {
    deadline: deadline(deadlineMs),
  });
  call.on('error', ignore);
  return call;
}

/**
 * A client stream: writes `messages` with backpressure (waits for 'drain' whenever grpc-js's
 * buffer is full, so a batch of large pages is never copied into memory at once), then half-closes
 * and resolves with the server's single response. If the server answers early (an error such as
 * KVC_NOT_LEADER before the upload is done), writing stops at once.
 */
export function clientStreamCall<Req, Res>(
  client: grpc.Client,
  rpc: Rpc<Req, Res>,
  messages: Iterable<Req>,
  metadata: grpc.Metadata,
  deadlineMs: number,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    let settle: () => void = ignore;
    const settled = new Promise<void>((resolveSettled) => (settle = resolveSettled));
    let done = false;
    const call = client.makeClientStreamRequest(rpc.path, rpc.serialize, rpc.deserialize, metadata, { deadline: deadline(deadlineMs) }, (error, response) => {
      done = true;
      settle();
      if (error) return reject(error);
      return resolve(response as Res);
    });
    call.on('error', ignore);
    writeAll(call, messages, () => done, settled).catch((error: unknown) => {
      call.cancel();
      reject(error);
    });
  });
}

async function writeAll<Req>(
  call: grpc.ClientWritableStream<Req>,
  messages: Iterable<Req>,
  isDone: () => boolean,
  settled: Promise<void>,
): Promise<void> {
  for (const message of messages) {
    if (isDone()) return;
    if (!call.write(message)) await drainOrSettled(call, settled);
  }
  if (!isDone()) call.end();
}

function drainOrSettled<Req>(call: grpc.ClientWritableStream<Req>, settled: Promise<void>): Promise<void> {
  let onDrain: () => void = ignore;
  const drained = new Promise<void>((resolve) => {
    onDrain = resolve;
    call.once('drain', onDrain);
  });
  return Promise.race([drained, settled]).finally(() => call.off('drain', onDrain));
}

function ignore(): void {}
