// Builders the checker tests share: a terse way to write histories by hand, a seeded generator of
// linearizable histories (a sequential register run by concurrent clients), and a brute-force
// linearizability oracle that tries every order, to hold the Wing-Gong-Lowe search to.
import type { FaultEvent, History, LeaderObservation, MemberFinalState, Operation, OpKind, Outcome, PageValue } from '../../../src/chaos/history.js';
import { Prng } from '../../../src/sim/index.js';

/** Page sizes are irrelevant to the checkers; a tag number stands for a page's crc32c. */
export const PAGE_BYTES = 4096;

export function page(tag: number): PageValue {
  return { crc32c: tag, bytes: PAGE_BYTES };
}

type Answer = Operation['result'] | 'fail' | 'unknown';

/** Builds a history one operation at a time; ids follow the order of the calls. */
export class HistoryBuilder {
  readonly operations: Operation[] = [];
  finals: MemberFinalState[] = [];
  leaders: LeaderObservation[] = [];
  faults: FaultEvent[] = [];

  #add(kind: OpKind, client: number, key: string, invokeMs: number, completeMs: number | undefined, answer: Answer): Operation {
    const outcome: Outcome = answer === 'fail' || answer === 'unknown' ? answer : 'ok';
    const op: Operation = { id: this.operations.length, client, kind, ns: 'chaos', key, invokeMs, outcome };
    if (completeMs !== undefined) op.completeMs = completeMs;
    if (outcome === 'ok') op.result = answer as Operation['result'];
    this.operations.push(op);
    return op;
  }

  put(client: number, key: string, tag: number, invokeMs: number, completeMs: number | undefined, answer: Answer): Operation {
    const op = this.#add('put', client, key, invokeMs, completeMs, answer);
    op.value = page(tag);
    return op;
  }

  del(client: number, key: string, invokeMs: number, completeMs: number | undefined, answer: Answer = 'deleted'): Operation {
    return this.#add('delete', client, key, invokeMs, completeMs, answer);
  }

  lookup(client: number, key: string, invokeMs: number, completeMs: number | undefined, answer: Answer): Operation {
    return this.#add('lookup', client, key, invokeMs, completeMs, answer);
  }

  get(client: number, key: string, invokeMs: number, completeMs: number, read: PageValue | null): Operation {
    const op = this.#add('get', client, key, invokeMs, completeMs, read === null ? 'absent' : 'found');
    if (read !== null) op.read = read;
    return op;
  }

  final(member: number, pages: Record<string, number | null>, appliedIndex = 100, digest = 'd'): this {
    const mapped: Record<string, PageValue | null> = {};
    for (const [key, tag] of Object.entries(pages)) mapped[key] = tag === null ? null : page(tag);
    this.finals.push({ member, pages: mapped, appliedIndex, digest });
    return this;
  }

  build(): History {
    return {
      seed: 1,
      nodes: 3,
      startedMs: 0,
      operations: this.operations,
      finals: this.finals,
      leaders: this.leaders,
      faults: this.faults,
    };
  }
}

/** The register's answer to one operation and the state after it; `state` is a page tag or null. */
function apply(state: number | null, op: Operation): { state: number | null; result: Operation['result'] } {
  switch (op.kind) {
    case 'put': {
      const tag = op.value!.crc32c;
      if (state === null || state === tag) return { state: tag, result: 'stored' };
      return { state, result: 'exists-different' };
    }
    case 'delete':
      return { state: null, result: 'deleted' };
    default:
      return { state, result: state === null ? 'absent' : 'present' };
  }
}

/**
 * Brute force: is there an order of the key's operations (ok ones, plus any subset of the unknown
 * puts and deletes) that respects real time and gives every ok operation its answer? Exponential;
 * for histories of a handful of operations only.
 */
export function bruteForceLinearizable(operations: readonly Operation[]): boolean {
  const ops = operations.filter((op) => op.kind !== 'get' && (op.outcome === 'ok' || (op.outcome === 'unknown' && op.kind !== 'lookup')));
  const end = (op: Operation): number => (op.outcome === 'unknown' ? Infinity : (op.completeMs ?? Infinity));
  const placed = new Array<boolean>(ops.length).fill(false);
  const search = (state: number | null, definiteLeft: number): boolean => {
    if (definiteLeft === 0) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // i may go next only if no unplaced operation completed before i was invoked.
      if (ops.some((other, j) => !placed[j] && j !== i && end(other) < ops[i].invokeMs)) continue;
      const step = apply(state, ops[i]);
      const definite = ops[i].outcome === 'ok';
      if (definite && step.result !== ops[i].result) continue;
      placed[i] = true;
      const found = search(step.state, definiteLeft - (definite ? 1 : 0));
      placed[i] = false;
      if (found) return true;
    }
    return false;
  };
  // An unknown operation that blocks nothing may always be placed last, so leaving it unplaced is allowed.
  return search(null, ops.filter((op) => op.outcome === 'ok').length);
}

export interface GeneratorOptions {
  clients: number;
  keys: number;
  operations: number;
  /** Probability that an operation's outcome is unknown (it then takes effect or not, at random). */
  unknownRatio: number;
  /** Probability that an operation fails (no effect). */
  failRatio?: number;
  /** Upper bound on an operation's latency, ms; intervals overlap when clients are concurrent. */
  latencyMsMax?: number;
}

/**
 * A linearizable history by construction: each client runs one operation at a time; every
 * operation gets a linearization point inside its interval, and the answers come from applying the
 * operations to a sequential register in the order of those points. Unknown writes take effect at
 * their point or not at all; unknown answers are dropped.
 */
export function generateLinearizable(seed: number, options: GeneratorOptions): History {
  const rng = new Prng(seed);
  const latencyMax = options.latencyMsMax ?? 10;
  const clientTimes = new Array<number>(options.clients).fill(0);
  // A client whose put had an unknown outcome sometimes retries the same page, as a real client
  // would: that is where one value has several writers (a shared value).
  const retries = new Array<Operation | undefined>(options.clients).fill(undefined);
  const drafts: Array<{ op: Operation; pointMs: number; takesEffect: boolean }> = [];
  let tag = 1;
  for (let id = 0; id < options.operations; id++) {
    const client = id % options.clients;
    const invokeMs = clientTimes[client] + rng.float() * latencyMax;
    const pointMs = invokeMs + rng.float() * latencyMax;
    const completeMs = pointMs + rng.float() * latencyMax;
    clientTimes[client] = completeMs;
    const retry = retries[client];
    retries[client] = undefined;
    const roll = rng.float();
    const kind: OpKind = retry !== undefined ? 'put' : roll < 0.4 ? 'put' : roll < 0.6 ? 'delete' : 'lookup';
    const key = retry?.key ?? `k${rng.int(options.keys)}`;
    const op: Operation = { id, client, kind, ns: 'chaos', key, invokeMs, completeMs, outcome: 'ok' };
    if (kind === 'put') op.value = retry?.value ?? page(tag++);
    const fate = rng.float();
    if (fate < options.unknownRatio) op.outcome = 'unknown';
    else if (fate < options.unknownRatio + (options.failRatio ?? 0)) op.outcome = 'fail';
    if (kind === 'put' && op.outcome === 'unknown' && rng.float() < 0.5) retries[client] = op;
    drafts.push({ op, pointMs, takesEffect: op.outcome === 'ok' || (op.outcome === 'unknown' && rng.float() < 0.5) });
  }
  const states = new Map<string, number | null>();
  for (const { op, takesEffect } of [...drafts].sort((a, b) => a.pointMs - b.pointMs)) {
    if (!takesEffect) continue;
    const step = apply(states.get(op.key) ?? null, op);
    states.set(op.key, step.state);
    if (op.outcome === 'ok') op.result = step.result;
  }
  const operations = drafts.map((d) => d.op).sort((a, b) => a.invokeMs - b.invokeMs);
  operations.forEach((op, i) => (op.id = i));
  return { seed, nodes: 3, startedMs: 0, operations, finals: [], leaders: [], faults: [] };
}
