// Backpressure of a gRPC server stream: `drained` waits until a stream whose write() returned false
// can take more. A module of its own because GetPages writes through it both its chunks
// (get-pages.ts) and its shared-memory answers (shared-transfer.ts), and get-pages.ts imports
// shared-transfer.ts.
import type * as grpc from '@grpc/grpc-js';

/** Resolves when the stream can take more, or when it is over (cancelled, closed, failed). */
export function drained(stream: grpc.ServerWritableStream<unknown, unknown>): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('cancelled', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('cancelled', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}
