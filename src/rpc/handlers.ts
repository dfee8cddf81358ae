// Adapters from async functions to grpc-js handlers. Every handler answers exactly once, through
// its callback or stream, and never throws out: a rejected promise becomes the mapped gRPC status
// (errors.ts). Keeping this in one place is what makes "no bad input crashes a node" hold for
// every method, including ones added later. A traced call (call-tracing.ts) runs its handler
// inside its span, which ends with the call's outcome.
import type * as grpc from '@grpc/grpc-js';
import { startCallSpan } from './call-tracing.js';
import type { MemberContext } from './member-context.js';

export function unary<Request, Response>(
  ctx: MemberContext,
  what: string,
  fn: (request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    const started = performance.now();
    const span = startCallSpan(ctx.tracing, what, call.metadata, call.request);
    const fail = (error: unknown): void => {
      const serviceError = ctx.serviceError(error, what);
      ctx.callDone(what, started, serviceError, span);
      callback(serviceError);
    };
    let running: Promise<Response>;
    try {
      running = span === undefined ? fn(call.request, call) : span.run(() => fn(call.request, call));
    } catch (error) {
      return fail(error);
    }
    return void running.then((response) => {
      ctx.callDone(what, started, undefined, span);
      callback(null, response);
    }, fail);
  };
}

export function clientStream<Request, Response>(
  ctx: MemberContext,
  what: string,
  fn: (call: grpc.ServerReadableStream<Request, Response>) => Promise<Response>,
): grpc.handleClientStreamingCall<Request, Response> {
  return (call, callback) => {
    const started = performance.now();
    const span = startCallSpan(ctx.tracing, what, call.metadata);
    // A client stream's 'error' (its connection reset) must not become an uncaught exception.
    call.on('error', () => undefined);
    return void Promise.resolve()
      .then(() => (span === undefined ? fn(call) : span.run(() => fn(call))))
      .then(
        (response) => {
          ctx.callDone(what, started, undefined, span);
          callback(null, response);
        },
        (error: unknown) => {
          // A cancelled call has no one to answer; the status is dropped by grpc-js.
          if (call.cancelled) return ctx.callDone(what, started, 'CANCELLED', span);
          const serviceError = ctx.serviceError(error, what);
          ctx.callDone(what, started, serviceError, span);
          return callback(serviceError);
        },
      );
  };
}

export function serverStream<Request, Response>(
  ctx: MemberContext,
  what: string,
  fn: (call: grpc.ServerWritableStream<Request, Response>) => Promise<void>,
): grpc.handleServerStreamingCall<Request, Response> {
  return (call) => {
    const started = performance.now();
    const span = startCallSpan(ctx.tracing, what, call.metadata, call.request);
    return void Promise.resolve()
      .then(() => (span === undefined ? fn(call) : span.run(() => fn(call))))
      .then(
        () => {
          ctx.callDone(what, started, undefined, span);
          if (!call.cancelled && !call.writableEnded) call.end();
        },
        (error: unknown) => {
          if (call.cancelled || call.writableEnded) return ctx.callDone(what, started, 'CANCELLED', span);
          const serviceError = ctx.serviceError(error, what);
          ctx.callDone(what, started, serviceError, span);
          // grpc-js turns an 'error' event on a server stream into the call's final status.
          return void call.emit('error', serviceError);
        },
      );
  };
}
