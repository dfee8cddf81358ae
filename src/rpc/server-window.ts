// The HTTP/2 flow-control windows of a member's server: LIMITS.rpc.flowControlWindowBytes for
// each stream and for the connection, as its clients' channels already have.
//
// Why this is needed: grpc-js 1.14 reads 'grpc-node.flow_control_window' only where it opens a
// client connection (transport.js). A grpc-js Server ignores the option, so every session it
// accepts keeps HTTP/2's 65,535-byte windows, and everything sent *to* a member (a client's
// PutPages, a leader's appends to its followers) moved 64 KiB per round trip between the two
// event loops. A trace of 1 MiB puts, 8 in flight, into `kvc dev` showed a 7 MiB append taking
// 46-86 ms to reach a follower; with these windows it takes 9-12 ms. What a sender may have
// in flight to a member that has not read it yet is now 16 MiB per connection (the connection
// window bounds all its streams together), as every client already allows a member towards it.
//
// grpc-js has no public hook for either window, so two of its internals are used, and checked
// here (a grpc-js update that moves them fails createServer, and test/rpc/server-window.test.ts
// says which): the options its HTTP/2 servers are created with (`commonServerOptions`, whose
// `settings` carry the stream window), and the handler it gives each new session
// (`_sessionHandler`, or `_channelzSessionHandler` with channelz on), wrapped to enlarge the
// connection window first.
import type { Http2Session } from 'node:http2';
import type * as grpc from '@grpc/grpc-js';

type SessionHandlerFactory = (http2Server: unknown) => (session: Http2Session) => void;

interface ServerInternals {
  commonServerOptions?: { settings?: Record<string, unknown> };
  _sessionHandler?: SessionHandlerFactory;
  _channelzSessionHandler?: SessionHandlerFactory;
}

const SESSION_HANDLERS = ['_sessionHandler', '_channelzSessionHandler'] as const;

/** Gives `server`'s future sessions `windowBytes` of stream and connection window. Call before bindAsync. */
export function applyServerWindow(server: grpc.Server, windowBytes: number): void {
  const internals = server as unknown as ServerInternals;
  const options = internals.commonServerOptions;
  const missing = [options === undefined ? 'commonServerOptions' : undefined, ...SESSION_HANDLERS.map((name) => (typeof internals[name] === 'function' ? undefined : name))].filter(
    (name) => name !== undefined,
  );
  if (options === undefined || missing.length > 0) {
    throw new Error(`this grpc-js has no ${missing.join(', ')}: the server's HTTP/2 windows cannot be set (see src/rpc/server-window.ts)`);
  }
  options.settings = { ...options.settings, initialWindowSize: windowBytes };
  for (const name of SESSION_HANDLERS) {
    const original = internals[name]!;
    internals[name] = function (this: unknown, http2Server: unknown) {
      const handle = original.call(this, http2Server);
      return (session: Http2Session) => {
        try {
          session.setLocalWindowSize(windowBytes);
        } catch {
          // A session that closed at once has no window left to set; grpc-js' handler still runs.
        }
        handle(session);
      };
    };
  }
}
