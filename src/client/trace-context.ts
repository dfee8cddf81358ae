// The caller's trace continues on the member: when the active OpenTelemetry context (of the
// program using the client, through @opentelemetry/api's global context manager) holds a valid
// span, every call carries it as W3C `traceparent` (and `tracestate`) metadata, which a member
// that traces continues (docs/TRACING.md). Written by hand rather than through the global
// propagator, so it works whatever propagator the program registered, or none. Without an
// active span (no OpenTelemetry in the program at all) it adds nothing.
//
// The API costs a process ~35 ms of CPU to load, a third of a `kvc status` call's own work, so it
// is loaded only once the program has registered something with it: until then its global
// registry (the one object every copy of API 1.x shares, at `Symbol.for('opentelemetry.js.api.1')`
// on globalThis, created by the first registration) is absent, the active context is the root
// context, and the root context holds no span.
import { createRequire } from 'node:module';
import type * as grpc from '@grpc/grpc-js';
import type * as OpenTelemetryApi from '@opentelemetry/api';

/** The key of API 1.x's global registry (its internal/global-utils.ts), the major version of the API this package depends on. */
const OPENTELEMETRY_GLOBAL = Symbol.for('opentelemetry.js.api.1');

let api: typeof OpenTelemetryApi | undefined;

/** Adds the active span's `traceparent` and `tracestate` to `metadata`, when there is one. */
export function addTraceContext(metadata: grpc.Metadata): grpc.Metadata {
  if (api === undefined) {
    if ((globalThis as Record<symbol, unknown>)[OPENTELEMETRY_GLOBAL] === undefined) return metadata;
    api = createRequire(import.meta.url)('@opentelemetry/api') as typeof OpenTelemetryApi;
  }
  const span = api.trace.getSpanContext(api.context.active());
  if (span === undefined || !api.isSpanContextValid(span)) return metadata;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  metadata.set('traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
  const state = span.traceState?.serialize();
  if (state !== undefined && state !== '') metadata.set('tracestate', state);
  return metadata;
}
