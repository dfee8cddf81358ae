// Proves a member's OpenTelemetry spans (src/tracing, docs/TRACING.md) end to end, against a real
// OTLP/HTTP receiver: a node:http server on a loopback port that takes the exporter's JSON POSTs.
// An in-process member with `tracing` set serves calls of the real client made inside a caller's
// span (the client sends its traceparent and tracestate): PutPages, GetPages and Lookup get server
// spans in the caller's trace with the caller's span as parent, the put's proposal a span under
// the PutPages span with its appended / committed / applied events (a pin's likewise under
// PinPages), a call with no traceparent a
// trace of its own, a refused call an error status with its KVC_* code; the member id is a
// resource attribute, and the member's stop flushes the spans. A member without `tracing` sends
// nothing, even with the standard OTEL_EXPORTER_OTLP_* variables pointing at the receiver. A
// collector that refuses spans costs one log line per run of failures, never a call.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT_CONTEXT, TraceFlags, context, trace, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { KvcClient, type PageInput } from '../../src/client/index.js';
import { TRACING_LIMITS } from '../../src/tracing/index.js';
import { NS, RawClient, type CallError, pageKey, startCluster, u8Page } from '../rpc/helpers.js';

interface OtlpValue {
  stringValue?: string;
  intValue?: number | string;
  boolValue?: boolean;
}
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  traceState?: string;
  name: string;
  kind: number;
  attributes: OtlpAttribute[];
  events: { name: string; attributes: OtlpAttribute[] }[];
  status: { code?: number; message?: string };
}
interface ExportedSpan extends OtlpSpan {
  resource: Record<string, unknown>;
}

const SPAN_KIND_SERVER = 2;
const STATUS_ERROR = 2;

function attributes(list: OtlpAttribute[] = []): Record<string, unknown> {
  return Object.fromEntries(list.map((a) => [a.key, a.value.stringValue ?? (a.value.intValue !== undefined ? Number(a.value.intValue) : a.value.boolValue)]));
}

/** An OTLP/HTTP receiver: every POST's path and content type, and the spans they carry; POSTs to /refuse get a 400. */
async function startReceiver(): Promise<{ url: string; posts: { path: string; type: string }[]; spans: ExportedSpan[]; close(): Promise<void> }> {
  const posts: { path: string; type: string }[] = [];
  const spans: ExportedSpan[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      posts.push({ path: request.url ?? '', type: request.headers['content-type'] ?? '' });
      // A collector that refuses (400 is not retried by the exporter).
      if (request.url === '/refuse') return void response.writeHead(400, { 'content-type': 'application/json' }).end('{"code":3,"message":"refused"}');
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        resourceSpans: { resource: { attributes: OtlpAttribute[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        const resource = attributes(rs.resource.attributes);
        for (const ss of rs.scopeSpans) for (const span of ss.spans) spans.push({ ...span, resource });
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, posts, spans, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Page `i` as the client takes it: 4 KiB of u8. */
function clientPage(i: number): PageInput {
  const { data } = u8Page(i, 4096);
  return { meta: { namespace: NS, key: pageKey(i), dtype: 'u8', shape: [1, 4096], tokens: 16 }, data };
}

/** A caller's span: what the program using the client would have active. */
const CALLER: SpanContext = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  traceFlags: TraceFlags.SAMPLED,
  traceState: new TraceState('vendor=kvc-test'),
};

t.test('a traced member continues the caller\'s trace through calls and proposals', async (t) => {
  const receiver = await startReceiver();
  t.teardown(() => receiver.close());
  const cluster = await startCluster([1], { tracing: { otlpEndpoint: `${receiver.url}/v1/traces`, serviceName: 'kvc-test' } });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new KvcClient({ endpoints: [member.address] });
  t.teardown(() => client.close());

  const inCaller = <T>(fn: () => Promise<T>): Promise<T> => context.with(trace.setSpanContext(ROOT_CONTEXT, CALLER), fn);
  const outcomes = await inCaller(() => client.putPages([clientPage(1)]));
  t.same(outcomes.map((o) => o.code), [''], 'the page is stored');
  t.equal(await inCaller(() => client.lookup(NS, [pageKey(1), pageKey(2)])), 1, 'lookup matches it');
  const got = await inCaller(async () => {
    const pages = [];
    for await (const p of client.getPages(NS, [pageKey(1)])) pages.push(p);
    return pages;
  });
  t.equal(got.length, 1, 'getPages returns it');
  await inCaller(() => client.pinPages(NS, [pageKey(1)], 60_000));
  // Without a caller's span: a trace of its own. A refused call: an error span.
  await client.lookup(NS, [pageKey(1)]);
  const raw = new RawClient(member.address);
  t.teardown(() => raw.close());
  const bad = await raw.unary('cache', 'Lookup', { namespace: NS, keys: [new Uint8Array(3)] }).catch((error: CallError) => error);
  t.match(bad, { kvcCode: 'KVC_INVALID_KEY' });

  // The stop flushes the batch processor: every span has been POSTed once it returns.
  await member.stop();
  t.ok(receiver.posts.length > 0 && receiver.posts.every((p) => p.path === '/v1/traces' && p.type.startsWith('application/json')), 'OTLP/HTTP JSON POSTs to the configured URL');
  const spans = receiver.spans;
  t.ok(spans.every((s) => s.resource['kvc.member.id'] === 1 && s.resource['service.name'] === 'kvc-test'), 'member id and service name are resource attributes');

  const inTrace = spans.filter((s) => s.traceId === CALLER.traceId);
  const server = (method: string): OtlpSpan[] => inTrace.filter((s) => s.name === `kvcache.v1.CacheService/${method}`);
  for (const method of ['PutPages', 'Lookup', 'GetPages']) {
    const [span, more] = server(method);
    t.ok(span !== undefined && more === undefined, `one ${method} span in the caller's trace`);
    if (span === undefined) continue;
    t.equal(span.parentSpanId, CALLER.spanId, `${method}: the caller's span is its parent`);
    t.equal(span.kind, SPAN_KIND_SERVER, `${method}: a server span`);
    t.equal(span.traceState, 'vendor=kvc-test', `${method}: tracestate continues`);
    t.match(attributes(span.attributes), { 'rpc.system': 'grpc', 'rpc.service': 'kvcache.v1.CacheService', 'rpc.method': method, 'kvc.code': 'OK' }, `${method}: its attributes`);
  }
  t.match(attributes(server('Lookup')[0]?.attributes), { 'kvc.ns': NS, 'kvc.keys': 2 }, 'Lookup: the namespace and keys asked for');
  t.match(attributes(server('GetPages')[0]?.attributes), { 'kvc.ns': NS, 'kvc.keys': 1 }, 'GetPages: likewise');
  const put = server('PutPages')[0];
  const proposals = inTrace.filter((s) => s.name === 'kvc.proposal');
  t.equal(proposals.length, 2, 'a proposal span for the put, one for the pin');
  const proposal = proposals.find((s) => attributes(s.attributes)['kvc.command'] === 'put');
  if (put !== undefined && proposal !== undefined) {
    t.equal(proposal.parentSpanId, put.spanId, 'the proposal is a child of the PutPages span');
    t.match(attributes(proposal.attributes), { 'kvc.command': 'put', 'kvc.pages': 1, 'kvc.bytes': 4096, 'kvc.outcome': 'applied' });
    t.same(proposal.events.map((e) => e.name), ['appended', 'committed', 'applied'], 'events for append, commit and apply, in order');
    const indexes = proposal.events.map((e) => attributes(e.attributes)['raft.index']);
    t.ok(typeof indexes[0] === 'number' && indexes.every((i) => i === indexes[0]), 'each event names the entry\'s index');
  }
  const pin = proposals.find((s) => attributes(s.attributes)['kvc.command'] === 'pin');
  t.equal(pin?.parentSpanId, server('PinPages')[0]?.spanId, 'the pin\'s proposal is a child of its PinPages span');
  t.match(pin && attributes(pin.attributes), { 'kvc.ns': NS, 'kvc.keys': 1, 'kvc.outcome': 'applied' }, 'with its namespace and key count');

  const own = spans.filter((s) => s.traceId !== CALLER.traceId && s.name === 'kvcache.v1.CacheService/Lookup');
  t.equal(own.length, 2, 'the calls without a caller\'s span started traces of their own');
  t.ok(own.every((s) => s.parentSpanId === undefined || s.parentSpanId === ''), 'with no parent');
  const refused = own.find((s) => attributes(s.attributes)['kvc.code'] === 'KVC_INVALID_KEY');
  t.ok(refused !== undefined && refused.status.code === STATUS_ERROR, 'the refused call is an error span with its KVC_* code');
  t.equal(refused && attributes(refused.attributes)['rpc.grpc.status_code'], 3, 'and its gRPC status (INVALID_ARGUMENT)');
});

t.test('a member without tracing sends no span, whatever OTEL_* says', async (t) => {
  const receiver = await startReceiver();
  t.teardown(() => receiver.close());
  const saved = { ...process.env };
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
  process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = `${receiver.url}/v1/traces`;
  t.teardown(() => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    Object.assign(process.env, saved);
  });
  const cluster = await startCluster([1]);
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new KvcClient({ endpoints: [member.address] });
  t.teardown(() => client.close());
  await context.with(trace.setSpanContext(ROOT_CONTEXT, CALLER), async () => {
    await client.putPages([clientPage(2)]);
    t.equal(await client.lookup(NS, [pageKey(2)]), 1);
  });
  await member.stop();
  // Longer than a traced member's batch delay: anything queued would have been sent by now.
  await sleep(TRACING_LIMITS.batchDelayMs + 250);
  t.same(receiver.posts, [], 'nothing was sent');
});

t.test('a collector that refuses spans is logged once, and the member goes on', async (t) => {
  const receiver = await startReceiver();
  t.teardown(() => receiver.close());
  const cluster = await startCluster([1], { tracing: { otlpEndpoint: `${receiver.url}/refuse`, sampleRatio: 1 } });
  t.teardown(() => cluster.stopAll());
  const member = await cluster.leader();
  const client = new KvcClient({ endpoints: [member.address] });
  t.teardown(() => client.close());
  for (let i = 3; i < 5; i++) {
    await client.putPages([clientPage(i)]);
    // Flushed between the two puts: two refused exports, one log line.
    await sleep(TRACING_LIMITS.batchDelayMs + 250);
  }
  t.equal(await client.lookup(NS, [pageKey(3), pageKey(4)]), 2, 'the member served every call');
  await member.stop();
  t.ok(receiver.posts.length >= 2, 'the exporter tried more than once');
  const lines = cluster.logs.filter((line) => line.includes('exporting spans to'));
  t.equal(lines.length, 1, 'one log line for the run of failures');
  t.match(lines[0], new RegExp(`member 1: exporting spans to ${receiver.url}/refuse failed: .*; spans are dropped until it works again`));
});
