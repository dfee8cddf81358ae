// OpenTelemetry tracing of one member, set up only when the config has a `tracing` section: a
// BasicTracerProvider of its own (member id and service name as resource attributes) whose
// BatchSpanProcessor hands finished spans to the OTLP/HTTP exporter, a W3C trace-context
// propagator that continues a caller's `traceparent` / `tracestate`, and an AsyncLocalStorage
// context manager so the span of a call is the parent of the proposals made while serving it.
//
// Why no global tracer provider: several members run in one process in the tests (and may in an
// embedding program), each with its own resource and exporter, so each member keeps its provider
// and hands its tracer to the node and services explicitly. The context manager is the one
// process-wide piece (the API's context.active() reads it); it is registered with the first
// traced member, kept if the program already has one, and never taken down, since other members
// of the process may still use it. Without a `tracing` section none of this is loaded or run:
// the call path only compares a field with undefined.
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, context, trace, type Attributes, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';

export interface TracingOptions {
  /** Where the OTLP/HTTP exporter POSTs spans, e.g. http://127.0.0.1:4318/v1/traces. */
  otlpEndpoint: string;
  /** The resource's service.name (default `kvcache-cluster`). */
  serviceName?: string;
  /** Share of traces started here (no sampled parent) that are recorded, 0..1 (default 1). */
  sampleRatio?: number;
}

export const TRACING_SERVICE_NAME_DEFAULT = 'kvcache-cluster';
/** The instrumentation scope of every span a member makes. */
export const TRACER_NAME = 'kvcache-cluster';

/**
 * The batch processor's and exporter's bounds, explicit rather than the SDK's defaults (which
 * OTEL_* variables would change): spans queued at most (more are dropped, never held in memory),
 * spans per POST, how long spans wait for a batch, and how long one export may take.
 */
export const TRACING_LIMITS = {
  queueSpansMax: 2_048,
  batchSpansMax: 512,
  batchDelayMs: 1_000,
  exportTimeoutMs: 5_000,
  /** Longest attribute value exported (longer strings are cut). */
  attributeCharsMax: 256,
  /** How long a member's stop waits for the last spans to leave; a dead collector cannot hold it longer. */
  shutdownTimeoutMs: 5_000,
} as const;

/** A server span of one gRPC call, ended once with the call's outcome. */
export interface CallSpan {
  /** Runs `fn` with the span as the active context, so what it starts (proposals) are its children. */
  run<T>(fn: () => T): T;
  /** Ends the span: `OK`, a KVC_* code or CANCELLED, and the gRPC status number when there is one. */
  end(code: string, grpcStatus?: number): void;
}

/** Reads one request header (gRPC metadata) by lower-case name. */
export type HeaderReader = (name: string) => string | undefined;

const HEADER_GETTER: TextMapGetter<HeaderReader> = {
  get: (read, key) => read(key),
  keys: () => ['traceparent', 'tracestate'],
};

let contextManagerRegistered = false;

/** Registers an AsyncLocalStorage context manager once per process, unless the program has one. */
function ensureContextManager(): void {
  if (contextManagerRegistered) return;
  contextManagerRegistered = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  // false: a context manager is already registered (the embedding program's); that one is used.
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

export class MemberTracing {
  readonly tracer: Tracer;
  readonly #provider: BasicTracerProvider;
  readonly #propagator = new W3CTraceContextPropagator();
  #shutdown: Promise<void> | undefined;

  constructor(memberId: number, options: TracingOptions, log: (line: string) => void = () => undefined) {
    ensureContextManager();
    const otlp = new OTLPTraceExporter({ url: options.otlpEndpoint, timeoutMillis: TRACING_LIMITS.exportTimeoutMs, headers: {} });
    const exporter = new LoggedExporter(otlp, (error) => log(`member ${memberId}: exporting spans to ${options.otlpEndpoint} failed: ${error}; spans are dropped until it works again`));
    this.#provider = new BasicTracerProvider({
      // Attributes come from requests (a namespace): a long one is cut, not exported whole.
      spanLimits: { attributeValueLengthLimit: TRACING_LIMITS.attributeCharsMax },
      resource: resourceFromAttributes({ 'service.name': options.serviceName ?? TRACING_SERVICE_NAME_DEFAULT, 'kvc.member.id': memberId }),
      // A caller's sampling decision (the traceparent's flag) is kept; traces begun here are sampled by ratio.
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
      spanProcessors: [
        new BatchSpanProcessor(exporter, {
          maxQueueSize: TRACING_LIMITS.queueSpansMax,
          maxExportBatchSize: TRACING_LIMITS.batchSpansMax,
          scheduledDelayMillis: TRACING_LIMITS.batchDelayMs,
          exportTimeoutMillis: TRACING_LIMITS.exportTimeoutMs,
        }),
      ],
    });
    this.tracer = this.#provider.getTracer(TRACER_NAME);
  }

  /**
   * Starts the server span `name` (`package.Service/Method`) of a call, with `attributes` besides
   * the rpc.* ones, as the child of the caller's `traceparent` when the request carries a valid
   * one, else as a new trace.
   */
  startCall(name: string, service: string, method: string, attributes: Attributes, header: HeaderReader): CallSpan {
    const parent = this.#propagator.extract(ROOT_CONTEXT, header, HEADER_GETTER);
    const span = this.tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method, ...attributes } }, parent);
    const active = trace.setSpan(parent, span);
    return {
      run: (fn) => context.with(active, fn),
      end: (code, grpcStatus) => endSpan(span, code, grpcStatus),
    };
  }

  /** Ends span export: flushes what is queued (bounded by TRACING_LIMITS.shutdownTimeoutMs). Safe to call more than once. */
  shutdown(): Promise<void> {
    this.#shutdown ??= new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, TRACING_LIMITS.shutdownTimeoutMs);
      timer.unref();
      // A failed last export costs those spans only; stopping the member goes on.
      this.#provider.shutdown().then(
        () => resolve(),
        () => resolve(),
      ).finally(() => clearTimeout(timer));
    });
    return this.#shutdown;
  }
}

/**
 * The OTLP exporter, telling the member's log when exports start failing (a wrong URL, a collector
 * that is down): once per run of failures, so a dead collector does not flood the log.
 */
class LoggedExporter implements SpanExporter {
  readonly #inner: SpanExporter;
  readonly #failed: (error: string) => void;
  #failing = false;

  constructor(inner: SpanExporter, failed: (error: string) => void) {
    this.#inner = inner;
    this.#failed = failed;
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    this.#inner.export(spans, (result) => {
      const ok = result.code === ExportResultCode.SUCCESS;
      if (!ok && !this.#failing) this.#failed(result.error?.message ?? 'no reason given');
      this.#failing = !ok;
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

function endSpan(span: Span, code: string, grpcStatus: number | undefined): void {
  span.setAttribute('kvc.code', code);
  if (grpcStatus !== undefined) span.setAttribute('rpc.grpc.status_code', grpcStatus);
  if (code !== 'OK') span.setStatus({ code: SpanStatusCode.ERROR, message: code });
  span.end();
}
