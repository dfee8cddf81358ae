// The caller's trace continues on the member: when the active OpenTelemetry context (of the
// program using the client, through @opentelemetry/api's global context manager) holds a valid
// span, every call carries it as W3C `traceparent` (and `tracestate`) metadata, which a member
// that traces continues (docs/TRACING.md). Written by hand rather than through the global
// propagator, so it works whatever propagator the program registered, or none. Without an
// active span (no OpenTelemetry in the program at all) it adds nothing.
import type * as grpc from '@grpc/grpc-js';
import { context, isSpanContextValid, trace } from '@opentelemetry/api';

/** Adds the active span's `traceparent` and `tracestate` to `metadata`, when there is one. */
export function addTraceContext(metadata: grpc.Metadata): grpc.Metadata {
  const span = trace.getSpanContext(context.active());
  if (span === undefined || !isSpanContextValid(span)) return metadata;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  metadata.set('traceparent', `00-${span.traceId}-${span.spanId}-${flags}`);
  const state = span.traceState?.serialize();
  if (state !== undefined && state !== '') metadata.set('tracestate', state);
  return metadata;
}
