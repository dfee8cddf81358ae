// Every request message that does not decode is answered INVALID_ARGUMENT with the code
// KVC_MALFORMED_REQUEST, on every service of a member's server (Cache, Admin, Peer, health,
// reflection, and whatever is added later), in unary calls and mid-stream alike.
//
// Why two pieces: grpc-js 1.14 (server-interceptors.js, decompressAndMaybePush) catches an
// exception of a method's deserializer itself and always answers INTERNAL "Error deserializing
// request", whatever was thrown; no handler or interceptor sees the call. So the deserializer of
// every method is wrapped (GuardedServer.register, which addService calls for each method of
// every service, including the ones grpc-health-check and @grpc/reflection add themselves) to
// return a MalformedRequest marker instead of throwing, and a server interceptor answers a call
// whose message is that marker with the coded status before the handler sees it. Sending the
// status cancels the call for the handler (its stream emits 'cancelled' and is destroyed), so a
// streaming handler ends as if the client had gone away; the member and its other calls go on.
//
// The same interceptor gives the one uncoded answer of a library service a code: health's
// NOT_FOUND for a service it does not know becomes KVC_UNKNOWN_SERVICE.
import * as grpc from '@grpc/grpc-js';
import { KvcError } from '../errors.js';
import { KVC_CODE_TRAILER, toServiceError } from './errors.js';

/** What a guarded deserializer returns for bytes that do not decode. */
export class MalformedRequest {
  constructor(
    readonly method: string,
    readonly reason: string,
  ) {}
}

/** The deserializer of `method` that returns a MalformedRequest instead of throwing. */
export function guardDeserializer<T>(method: string, deserialize: grpc.deserialize<T>): grpc.deserialize<T | MalformedRequest> {
  return (bytes: Buffer) => {
    try {
      return deserialize(bytes);
    } catch (error) {
      return new MalformedRequest(method, error instanceof Error ? error.message : String(error));
    }
  };
}

const HEALTH_SERVICE_PREFIX = '/grpc.health.v1.Health/';

/** Answers a call whose request is a MalformedRequest, and codes health's unknown-service answer. */
export const malformedRequestInterceptor: grpc.ServerInterceptor = (method, call) =>
  new grpc.ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMessage: (message: unknown, nextMessage) => {
          if (!(message instanceof MalformedRequest)) return nextMessage(message);
          const error = new KvcError('KVC_MALFORMED_REQUEST', { detail: `${message.method}: ${message.reason}` });
          return call.sendStatus(toServiceError(error));
        },
      }),
    sendStatus: (status, nextStatus) => {
      const uncodedHealthNotFound =
        status.code === grpc.status.NOT_FOUND && method.path.startsWith(HEALTH_SERVICE_PREFIX) && status.metadata?.get(KVC_CODE_TRAILER).length !== 1;
      if (!uncodedHealthNotFound) return nextStatus(status);
      return nextStatus(toServiceError(new KvcError('KVC_UNKNOWN_SERVICE', { detail: status.details ?? '' })));
    },
  });

/**
 * A grpc-js server whose every method's deserializer is guarded (see the file comment). Use it
 * with malformedRequestInterceptor among the server's interceptors (protos.ts createServer).
 */
export class GuardedServer extends grpc.Server {
  override register<RequestType, ResponseType>(
    name: string,
    handler: grpc.UntypedHandleCall,
    serialize: grpc.serialize<ResponseType>,
    deserialize: grpc.deserialize<RequestType>,
    type: string,
  ): boolean {
    // The handler never sees the marker: the interceptor answers the call first.
    return super.register(name, handler, serialize, guardDeserializer(name, deserialize) as grpc.deserialize<RequestType>, type);
  }
}
