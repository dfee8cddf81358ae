// The RPC fuzzer: sends a live cluster mutated requests of every method it serves (methods.ts,
// wire.ts) and checks that it survives them. A run is a function of its seed: the requests, their
// order and their targets come from one Prng (src/sim), generated in order before each is sent,
// so a seed replays the same bytes (the answers may differ where they depend on timing).
//
// Pass: every answer is a success or an error with a `KVC_*` code (trailer `kvc-code`); every
// member stays up and serving (health SERVING and Status answer, at the end and whenever a call
// fails without a code); the baseline pages written before the run read back byte for byte; the
// members converge on one state digest; and when no write was accepted during the run, that
// digest is the one from before it.
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { KvcClient, type Page } from '../client/index.js';
import { FrameReader, PUT_LANE_HEAD_BYTES, PUT_LANE_HELLO, PUT_LANE_KINDS, putLaneFrameHead } from '../proto/index.js';
import { Prng } from '../sim/index.js';
import { forgedMemberBatch, fuzzMethods, type FuzzMethod, type SeedContext } from './methods.js';
import { mutateMessage } from './wire.js';

export interface FuzzOptions {
  /** The members' client addresses (every member of the cluster). */
  endpoints: string[];
  requests: number;
  seed: number;
  /** The cluster's admin token, if it has one (read-only admin calls use it). */
  adminToken?: string;
  /** Calls in flight at once (default 8). */
  concurrency?: number;
  /** Deadline of one call (default 5 s); a call still unanswered then counts as uncoded. */
  deadlineMs?: number;
  log?: (line: string) => void;
  /** Whether the member at `endpoint` is known to have failed (in-process members: a fatal error). */
  memberFailed?: (endpoint: string) => boolean;
}

export interface MethodTally {
  requests: number;
  ok: number;
  /** Coded errors by KVC_* code. */
  coded: Record<string, number>;
  /** Errors without a code, by gRPC status name (and what the details began with). */
  uncoded: Record<string, number>;
  /** Times a member was found down after a call of this method. */
  crashes: number;
  /** Well-formed destructive calls held back (only on a cluster without an admin token). */
  skipped: number;
  /** The slowest answer, in ms. */
  slowestMs: number;
}

export interface FuzzSummary {
  ok: boolean;
  seed: number;
  requests: number;
  durationMs: number;
  methods: Record<string, MethodTally>;
  /** Why the run failed; empty when it passed. */
  failures: string[];
  /** Writes (PutPages, DeletePages, PinPages, UnpinPages) that succeeded during the run. */
  writesAccepted: number;
  digestBefore: string;
  digestAfter: string;
}

const FUZZ_NAMESPACE = 'fuzz/scratch';
const BASELINE_NAMESPACE = 'fuzz/baseline';
const BASELINE_PAGES = 8;
const BASELINE_PAGE_BYTES = 8192;
const DEFAULT_CONCURRENCY = 8;
const DEFAULT_DEADLINE_MS = 5_000;
const PROBE_DEADLINE_MS = 2_000;
const CONVERGE_TIMEOUT_MS = 15_000;
const CONVERGE_POLL_MS = 100;
/** Share of requests sent as their valid seed, unmutated. */
const VALID_SHARE = 0.1;
/** Share of Raft streams that forge a member's traffic with stale terms. */
const FORGED_MEMBER_SHARE = 0.3;
/** Share of PutPages calls sent over the put lane instead of gRPC (their own row). */
const PUT_LANE_SHARE = 0.5;
const PUT_PAGES = 'CacheService.PutPages';
const WRITE_METHODS: ReadonlySet<string> = new Set(['CacheService.PutPages', 'CacheService.DeletePages', 'CacheService.PinPages', 'CacheService.UnpinPages']);
const identity = (bytes: Buffer): Buffer => bytes;

interface Planned {
  method: FuzzMethod;
  /** The tally it counts under (forged member traffic has its own row). */
  row: string;
  endpoint: string;
  messages: Buffer[];
  withToken: boolean;
  /** Sent over the put lane (src/rpc put-lane.ts) instead of gRPC: PutPages only. */
  lane?: boolean;
}

type Outcome = { kind: 'ok' } | { kind: 'coded'; code: string } | { kind: 'uncoded'; status: string; unavailable: boolean };

export async function runFuzz(o: FuzzOptions): Promise<FuzzSummary> {
  const startedMs = Date.now();
  const log = o.log ?? (() => undefined);
  const client = new KvcClient({ endpoints: o.endpoints, retries: 5, ...(o.adminToken === undefined ? {} : { adminToken: o.adminToken }) });
  const channels = new Map(o.endpoints.map((e) => [e, new grpc.Client(e, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': -1, 'grpc.max_receive_message_length': -1 })]));
  const failures: string[] = [];
  const methods = fuzzMethods();
  const tallies: Record<string, MethodTally> = {};
  const tally = (row: string): MethodTally => (tallies[row] ??= { requests: 0, ok: 0, coded: {}, uncoded: {}, crashes: 0, skipped: 0, slowestMs: 0 });
  try {
    const statuses = await Promise.all(o.endpoints.map((e) => client.status(e)));
    const ids = new Map(o.endpoints.map((e, i) => [e, statuses[i]!.id]));
    const term = Math.max(...statuses.map((s) => s.term));
    const hasToken = await refusesAdminWithoutToken(channels.get(o.endpoints[0]!)!, methods);
    const baseline = await writeBaseline(client, o.seed);
    const digestBefore = await convergedDigest(client, o.endpoints, failures, 'before the run');
    log(`fuzz: seed ${o.seed}, ${o.requests} requests over ${o.endpoints.length} members (term ${term}), admin token ${hasToken ? 'required' : 'not required'}`);
    const prng = new Prng(o.seed);
    const context = (endpoint: string): SeedContext => ({ targetId: ids.get(endpoint)!, memberIds: [...ids.values()], staleTermMax: term - 1, namespace: FUZZ_NAMESPACE });
    let writesAccepted = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < o.requests) {
        next++;
        const planned = plan(prng, methods, o.endpoints, context, o.adminToken !== undefined);
        const row = tally(planned.row);
        if (planned.method.destructive === true && !hasToken && decodes(planned)) {
          row.skipped++;
          continue;
        }
        row.requests++;
        const callStartedMs = Date.now();
        const outcome = await call(channels.get(planned.endpoint)!, planned, o.adminToken, o.deadlineMs ?? DEFAULT_DEADLINE_MS);
        row.slowestMs = Math.max(row.slowestMs, Date.now() - callStartedMs);
        if (outcome.kind === 'ok') {
          row.ok++;
          if (WRITE_METHODS.has(planned.method.name)) writesAccepted++;
        } else if (outcome.kind === 'coded') row.coded[outcome.code] = (row.coded[outcome.code] ?? 0) + 1;
        else {
          row.uncoded[outcome.status] = (row.uncoded[outcome.status] ?? 0) + 1;
          if (outcome.unavailable && !(await serving(channels.get(planned.endpoint)!))) row.crashes++;
        }
        if (o.memberFailed?.(planned.endpoint) === true) row.crashes++;
      }
    };
    await Promise.all(Array.from({ length: o.concurrency ?? DEFAULT_CONCURRENCY }, worker));
    for (const [endpoint, channel] of channels) {
      if (!(await serving(channel)) || o.memberFailed?.(endpoint) === true) failures.push(`member at ${endpoint} is not serving after the run`);
    }
    await checkBaseline(client, baseline, failures);
    const digestAfter = await convergedDigest(client, o.endpoints, failures, 'after the run');
    if (writesAccepted === 0 && digestAfter !== digestBefore) failures.push(`no write was accepted, yet the state digest changed (${digestBefore.slice(0, 12)} → ${digestAfter.slice(0, 12)})`);
    for (const [name, t] of Object.entries(tallies)) {
      const uncoded = Object.values(t.uncoded).reduce((a, b) => a + b, 0);
      if (uncoded > 0) failures.push(`${name}: ${uncoded} answers without a KVC_* code (${JSON.stringify(t.uncoded)})`);
      if (t.crashes > 0) failures.push(`${name}: a member was down after ${t.crashes} of its calls`);
    }
    return { ok: failures.length === 0, seed: o.seed, requests: o.requests, durationMs: Date.now() - startedMs, methods: tallies, failures, writesAccepted, digestBefore, digestAfter };
  } finally {
    for (const channel of channels.values()) channel.close();
    client.close();
  }
}

/** The next request: a method, a target, and its (mostly mutated) message stream. */
function plan(prng: Prng, methods: FuzzMethod[], endpoints: string[], context: (endpoint: string) => SeedContext, haveToken: boolean): Planned {
  const method = methods[prng.int(methods.length)]!;
  const endpoint = endpoints[prng.int(endpoints.length)]!;
  const ctx = context(endpoint);
  const withToken = haveToken && method.admin === true && method.destructive !== true;
  if (method.name === 'PeerService.Raft' && prng.chance(FORGED_MEMBER_SHARE)) {
    const forged = forgedMemberBatch(prng, ctx);
    if (forged !== undefined) return { method, row: 'PeerService.Raft (forged member, stale term)', endpoint, messages: forged, withToken };
  }
  const lane = method.name === PUT_PAGES && prng.chance(PUT_LANE_SHARE);
  const row = lane ? `${PUT_PAGES} (put lane)` : method.name;
  const messages = method.seed(prng, ctx);
  if (prng.chance(VALID_SHARE)) return { method, row, endpoint, messages, withToken, lane };
  return { method, row, endpoint, messages: mutateStream(prng, method, messages), withToken, lane };
}

/** Mutates one message of the stream, or the stream itself (cut short, or a message repeated). */
function mutateStream(prng: Prng, method: FuzzMethod, messages: Buffer[]): Buffer[] {
  const streaming = method.kind === 'clientStream' || method.kind === 'bidi';
  const out = [...messages];
  if (streaming && out.length > 1 && prng.chance(0.15)) return out.slice(0, prng.int(out.length));
  if (streaming && out.length > 0 && prng.chance(0.1)) {
    const repeated = out[prng.int(out.length)]!;
    return [...out, ...Array.from({ length: 1 + prng.int(50) }, () => repeated)];
  }
  if (out.length === 0) return out;
  const at = prng.int(out.length);
  out[at] = mutateMessage(prng, out[at]!).bytes;
  return out;
}

function decodes(planned: Planned): boolean {
  try {
    for (const m of planned.messages) planned.method.decode?.(m);
    return true;
  } catch {
    return false;
  }
}

function classify(error: grpc.ServiceError | null): Outcome {
  if (error === null) return { kind: 'ok' };
  const code = error.metadata?.get('kvc-code')[0];
  if (typeof code === 'string' && code.startsWith('KVC_')) return { kind: 'coded', code };
  const inDetails = /\bKVC_[A-Z_]+/.exec(error.details ?? '');
  if (inDetails !== null) return { kind: 'coded', code: inDetails[0] };
  const status = grpc.status[error.code] ?? String(error.code);
  return { kind: 'uncoded', status: `${status}: ${(error.details ?? '').slice(0, 60)}`, unavailable: error.code === grpc.status.UNAVAILABLE };
}

/** Sends one planned request and waits for its answer (a server stream is read to its end). */
function call(channel: grpc.Client, p: Planned, token: string | undefined, deadlineMs: number): Promise<Outcome> {
  if (p.lane === true) return laneCall(p, deadlineMs);
  const metadata = new grpc.Metadata();
  if (p.withToken && token !== undefined) metadata.set('authorization', `Bearer ${token}`);
  const options = { deadline: Date.now() + deadlineMs };
  return new Promise((resolve) => {
    const done = (error: grpc.ServiceError | null): void => resolve(classify(error));
    switch (p.method.kind) {
      case 'unary':
        channel.makeUnaryRequest(p.method.path, identity, identity, p.messages[0] ?? Buffer.alloc(0), metadata, options, (error) => done(error));
        return;
      case 'clientStream': {
        const stream = channel.makeClientStreamRequest(p.method.path, identity, identity, metadata, options, (error) => done(error));
        stream.on('error', () => undefined);
        for (const m of p.messages) stream.write(m);
        stream.end();
        return;
      }
      case 'serverStream':
      case 'bidi': {
        const stream =
          p.method.kind === 'serverStream'
            ? channel.makeServerStreamRequest(p.method.path, identity, identity, p.messages[0] ?? Buffer.alloc(0), metadata, options)
            : channel.makeBidiStreamRequest(p.method.path, identity, identity, metadata, options);
        let settled = false;
        const settle = (error: grpc.ServiceError | null): void => {
          if (settled) return;
          settled = true;
          done(error);
        };
        stream.on('data', () => {
          // Health.Watch never ends by itself: its first answer is the success.
          if (p.method.name !== 'Health.Watch') return;
          settle(null);
          stream.cancel();
        });
        stream.on('error', (error: grpc.ServiceError) => settle(error));
        stream.on('end', () => settle(null));
        if (p.method.kind === 'bidi') {
          const writable = stream as grpc.ClientDuplexStream<Buffer, Buffer>;
          for (const m of p.messages) writable.write(m);
          writable.end();
        }
        return;
      }
    }
  });
}

/**
 * One PutPages call over a put-lane connection of its own (OPEN, the messages, END): its RESULT is
 * a success, its ERROR coded or not as a gRPC status is; a connection closed unanswered, or no
 * answer by the deadline, counts as an UNAVAILABLE without a code (then the member's health is
 * checked, as for gRPC).
 */
function laneCall(p: Planned, deadlineMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const [host, port] = [p.endpoint.slice(0, p.endpoint.lastIndexOf(':')), Number(p.endpoint.slice(p.endpoint.lastIndexOf(':') + 1))];
    const socket = net.connect({ host, port });
    let settled = false;
    const settle = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(outcome);
    };
    const unanswered = (why: string): Outcome => ({ kind: 'uncoded', status: `UNAVAILABLE: put lane ${why}`, unavailable: true });
    const timer = setTimeout(() => settle(unanswered('no answer by the deadline')), deadlineMs);
    const reader = new FrameReader(1 << 20, (frame) => {
      const kind = frame[0];
      const body = frame.subarray(PUT_LANE_HEAD_BYTES);
      if (kind === PUT_LANE_KINDS.result) return settle({ kind: 'ok' });
      const answer = JSON.parse(body.toString('utf8')) as { code: number; details: string; metadata?: Record<string, string> };
      const metadata = new grpc.Metadata();
      for (const [name, value] of Object.entries(answer.metadata ?? {})) metadata.set(name, value);
      settle(classify(Object.assign(new Error(answer.details), { code: answer.code, details: answer.details, metadata })));
    });
    let hello = 0;
    socket.on('data', (chunk: Buffer) => {
      const skip = Math.min(PUT_LANE_HELLO.byteLength - hello, chunk.byteLength);
      hello += skip;
      try {
        if (chunk.byteLength > skip) reader.push(chunk.subarray(skip));
      } catch (error) {
        settle(unanswered(`answer unreadable: ${(error as Error).message}`));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => settle(unanswered('closed unanswered')));
    const frame = (kind: number, body: Buffer): Buffer[] => [putLaneFrameHead(kind, 1, body.byteLength), body];
    const open = Buffer.from(JSON.stringify({ timeoutMs: deadlineMs }), 'utf8');
    socket.write(Buffer.concat([PUT_LANE_HELLO, ...frame(PUT_LANE_KINDS.open, open), ...p.messages.flatMap((m) => frame(PUT_LANE_KINDS.message, m)), ...frame(PUT_LANE_KINDS.end, Buffer.alloc(0))]));
  });
}

/** Health check of the whole server: SERVING within the probe deadline. */
function serving(channel: grpc.Client): Promise<boolean> {
  return new Promise((resolve) => {
    channel.makeUnaryRequest('/grpc.health.v1.Health/Check', identity, identity, Buffer.alloc(0), new grpc.Metadata(), { deadline: Date.now() + PROBE_DEADLINE_MS }, (error, response) => {
      // HealthCheckResponse { status = 1 }: SERVING is 1, encoded as 08 01.
      resolve(error === null && response !== undefined && response.equals(Buffer.from([0x08, 0x01])));
    });
  });
}

/** Whether a well-formed admin call without the token is refused (the cluster has an admin token). */
async function refusesAdminWithoutToken(channel: grpc.Client, methods: FuzzMethod[]): Promise<boolean> {
  const status = methods.find((m) => m.name === 'AdminService.Status')!;
  const outcome = await call(channel, { method: status, row: '', endpoint: '', messages: [Buffer.alloc(0)], withToken: false }, undefined, PROBE_DEADLINE_MS);
  return outcome.kind === 'coded' && outcome.code === 'KVC_UNAUTHENTICATED';
}

interface Baseline {
  keys: Uint8Array[];
  data: Uint8Array[];
}

/** Pages written before the run (derived from the seed) that must read back unchanged after it. */
async function writeBaseline(client: KvcClient, seed: number): Promise<Baseline> {
  const prng = new Prng(seed ^ 0x5eed);
  const keys: Uint8Array[] = [];
  const data: Uint8Array[] = [];
  for (let i = 0; i < BASELINE_PAGES; i++) {
    const key = Buffer.alloc(16);
    const bytes = Buffer.alloc(BASELINE_PAGE_BYTES);
    for (let k = 0; k < key.length; k++) key[k] = prng.int(256);
    for (let k = 0; k < bytes.length; k++) bytes[k] = prng.int(256);
    keys.push(key);
    data.push(bytes);
  }
  const outcomes = await client.putPages(keys.map((key, i) => ({ meta: { namespace: BASELINE_NAMESPACE, key, dtype: 'u8', shape: [1, BASELINE_PAGE_BYTES], tokens: 16 }, data: data[i]! })));
  for (const outcome of outcomes) if (outcome.code !== '') throw new Error(`baseline put failed: ${outcome.code} ${outcome.message}`);
  return { keys, data };
}

async function checkBaseline(client: KvcClient, baseline: Baseline, failures: string[]): Promise<void> {
  const pages: Page[] = [];
  try {
    for await (const page of client.getPages(BASELINE_NAMESPACE, baseline.keys)) pages.push(page);
  } catch (error) {
    failures.push(`baseline pages do not read back: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  baseline.data.forEach((expected, i) => {
    const got = pages[i]?.data;
    if (got === undefined || !Buffer.from(got).equals(Buffer.from(expected))) failures.push(`baseline page ${i} changed`);
  });
}

/** Waits until every member reports the same state digest and returns it. */
async function convergedDigest(client: KvcClient, endpoints: string[], failures: string[], when: string): Promise<string> {
  const deadline = Date.now() + CONVERGE_TIMEOUT_MS;
  let digests: string[] = [];
  for (;;) {
    digests = await Promise.all(endpoints.map((e) => client.status(e, { includeDigest: true }).then((s) => s.digest, () => '')));
    if (digests[0] !== '' && digests.every((d) => d === digests[0])) return digests[0]!;
    if (Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, CONVERGE_POLL_MS));
  }
  failures.push(`members did not converge ${when}: digests ${digests.map((d) => d.slice(0, 12) || 'none').join(', ')}`);
  return digests[0] ?? '';
}
