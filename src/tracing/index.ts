// OpenTelemetry tracing of a member (docs/TRACING.md): loaded only when the config has a
// `tracing` section.
export { MemberTracing, TRACING_LIMITS, TRACING_SERVICE_NAME_DEFAULT, TRACER_NAME, type CallSpan, type HeaderReader, type TracingOptions } from './member-tracing.js';
