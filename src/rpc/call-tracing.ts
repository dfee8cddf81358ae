// Which calls get a server span when the member traces (src/tracing), and how a call's W3C
// `traceparent` / `tracestate` are read from its gRPC metadata. CacheService calls are traced,
// all but Watch: a watch stream lives as long as its watcher, and a span that long says nothing.
// AdminService and PeerService calls are not: they are not on the path of a cache request.
import type * as grpc from '@grpc/grpc-js';
import type { CallSpan, MemberTracing } from '../tracing/index.js';
import { SERVICE_NAMES } from './protos.js';

const TRACED_METHODS: ReadonlySet<string> = new Set(['Lookup', 'GetPages', 'PutPages', 'DeletePages', 'PinPages', 'UnpinPages', 'ReleasePages', 'ListPages']);

/**
 * The server span of a call of `method` (a handler's `what`), or undefined when it is not traced.
 * `request` (known at the start of unary and server-streaming calls) adds the namespace and the
 * number of keys asked for.
 */
export function startCallSpan(tracing: MemberTracing | undefined, method: string, metadata: grpc.Metadata, request?: unknown): CallSpan | undefined {
  if (tracing === undefined || !TRACED_METHODS.has(method)) return undefined;
  return tracing.startCall(`${SERVICE_NAMES.cache}/${method}`, SERVICE_NAMES.cache, method, requestAttributes(request), (name) => {
    // A header sent more than once arrives as several values; W3C joins them with commas.
    const values = metadata.get(name).filter((v): v is string => typeof v === 'string');
    return values.length === 0 ? undefined : values.join(',');
  });
}

/** `kvc.ns` and `kvc.keys` of a request that has them (unchecked yet: a bad one is refused after). */
function requestAttributes(request: unknown): Record<string, string | number> {
  if (typeof request !== 'object' || request === null) return {};
  const { namespace, keys } = request as { namespace?: unknown; keys?: unknown };
  return { ...(typeof namespace === 'string' && namespace !== '' ? { 'kvc.ns': namespace } : {}), ...(Array.isArray(keys) ? { 'kvc.keys': keys.length } : {}) };
}
