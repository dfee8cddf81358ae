// The script commands of the interaction tests (etcd-raft's interaction commands, in our words).
// Each handler reads its arguments, drives the InteractionEnv and lets it write the output.
//
//   add-nodes N [voters=(1,2,3)] [learners=(4)] [index=N] [content=text] [log=(1,1,2)]
//             [term=T] [vote=V] [commit=C] [prevote=true] [checkquorum=true] [election-tick=3]
//             [heartbeat-tick=1] [max-size-per-msg=B] [max-inflight=N] [max-inflight-bytes=B]
//             [max-uncommitted=B] [max-committed-size-per-ready=B] [read-only=lease-based]
//             [disable-proposal-forwarding=true]
//   campaign ID | propose ID data | propose ID bytes=N | propose-conf-change ID v3|l4|r2
//   process-ready ID... | deliver-msgs [drop=(IDs)] [type=MsgApp] [reverse=true] ID... | stabilize [ID...]
//   tick-heartbeat ID | tick-election ID | tick ID N | transfer-leadership from=ID to=ID
//   read-index ID ctx | raft-log ID | raft-state | status ID | applied ID | compact ID INDEX
//   report-unreachable ID UNREACHABLE_ID | report-snapshot ID TARGET [fail] | forget-leader ID
//   partition (1,2) (3) | heal | crash ID | restart ID [prevote=B] [checkquorum=B] | log-level none|info
//   step ID type=MsgVote from=F [term=T] [logterm=T] [index=I] [commit=C] [reject=true]
//        [hint=H] [entries=(term/index,...)] [context=text] [snap=index/term voters=(..) learners=(..)]
//
// `log=(t1,t2,...)` writes entries with those terms (empty payloads) right after the snapshot
// index into the new nodes' storage, to build the divergent logs of the paper's figures.

import { ConfChangeType, EMPTY_BYTES, EntryType, MemoryStorage, MessageType } from '../../../src/raft/index.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Snapshot } from '../../../src/raft/index.js';
import { describeEntries, describeMessage, describeStateType, describeStatus } from '../../../src/raft/describe.js';
import type { CommandArg, TestBlock } from './datadriven.js';
import { InteractionEnv } from './env.js';
import type { NodeConfig } from './env.js';

/** Defaults as in etcd's interaction env: short timeouts, no size limits. */
const DEFAULT_ELECTION_TICK = 3;
const DEFAULT_HEARTBEAT_TICK = 1;
const DEFAULT_MAX_INFLIGHT_MSGS = 256;
const UNLIMITED_BYTES = Number.MAX_SAFE_INTEGER;

const encoder = new TextEncoder();

// ---- argument helpers -------------------------------------------------------------------------

class Args {
  readonly #args: CommandArg[];
  readonly #where: string;

  constructor(args: CommandArg[], where: string) {
    this.#args = args;
    this.#where = where;
  }

  fail(message: string): never {
    throw new Error(`${this.#where}: ${message}`);
  }

  /** Values of the arguments without a key, flattened. */
  positional(): string[] {
    return this.#args.filter((a) => a.key === undefined).flatMap((a) => a.values);
  }

  /** The groups of key-less arguments, one array per argument (for `partition (1,2) (3)`). */
  groups(): string[][] {
    return this.#args.filter((a) => a.key === undefined).map((a) => a.values);
  }

  values(key: string): string[] | undefined {
    return this.#args.find((a) => a.key === key)?.values;
  }

  string(key: string): string | undefined {
    return this.values(key)?.[0];
  }

  int(key: string): number | undefined {
    const text = this.string(key);
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isInteger(n)) this.fail(`${key}=${text} is not an integer`);
    return n;
  }

  bool(key: string): boolean {
    return this.string(key) === 'true';
  }

  ids(key: string): NodeId[] | undefined {
    return this.values(key)?.map((v) => toInt(v, this));
  }

  /** The positional ids (at least one unless `allowNone`). */
  positionalIds(allowNone = false): NodeId[] {
    const ids = this.positional().map((v) => toInt(v, this));
    if (ids.length === 0 && !allowNone) this.fail('needs a node id');
    return ids;
  }

  /** The first positional argument as a node id. */
  id(): NodeId {
    const first = this.positional()[0];
    if (first === undefined) this.fail('needs a node id');
    return toInt(first, this);
  }
}

function toInt(text: string, args: Args): number {
  const n = Number(text);
  if (!Number.isInteger(n)) args.fail(`${text} is not an integer`);
  return n;
}

// ---- add-nodes --------------------------------------------------------------------------------

function nodeConfig(args: Args): NodeConfig {
  const readOnly = args.string('read-only');
  if (readOnly !== undefined && readOnly !== 'lease-based' && readOnly !== 'safe') args.fail(`read-only=${readOnly}`);
  return {
    electionTick: args.int('election-tick') ?? DEFAULT_ELECTION_TICK,
    heartbeatTick: args.int('heartbeat-tick') ?? DEFAULT_HEARTBEAT_TICK,
    maxSizePerMsgBytes: args.int('max-size-per-msg') ?? UNLIMITED_BYTES,
    maxInflightMsgs: args.int('max-inflight') ?? DEFAULT_MAX_INFLIGHT_MSGS,
    maxInflightBytes: args.int('max-inflight-bytes') ?? 0,
    maxUncommittedEntriesBytes: args.int('max-uncommitted') ?? 0,
    maxCommittedSizePerReadyBytes: args.int('max-committed-size-per-ready') ?? 0,
    checkQuorum: args.bool('checkquorum'),
    preVote: args.bool('prevote'),
    readOnlyOption: readOnly ?? 'safe',
    disableProposalForwarding: args.bool('disable-proposal-forwarding'),
  };
}

/** A storage holding the snapshot, log and hard state that `add-nodes` was asked for. */
function initialStorage(args: Args): MemoryStorage {
  const confState: ConfState = { voters: args.ids('voters') ?? [], learners: args.ids('learners') ?? [] };
  const index = args.int('index') ?? 0;
  const storage = MemoryStorage.create(confState);
  if (index > 0) {
    // Like etcd's bootstrap: a snapshot at `index`, term 1, so the log starts at index + 1.
    const data = encoder.encode(args.string('content') ?? '');
    storage.applySnapshot({ metadata: { index, term: 1, confState }, data });
  }
  const terms = args.ids('log') ?? [];
  const entries: Entry[] = terms.map((term, k) => ({ term, index: index + 1 + k, type: EntryType.Normal, data: EMPTY_BYTES }));
  storage.append(entries);
  const term = args.int('term');
  const vote = args.int('vote');
  const commit = args.int('commit');
  if (entries.length > 0 || term !== undefined || vote !== undefined || commit !== undefined) {
    const lastTerm = storage.term(storage.lastIndex());
    const hardState: HardState = { term: term ?? lastTerm, vote: vote ?? 0, commit: commit ?? index };
    storage.setHardState(hardState);
  }
  return storage;
}

function addNodes(env: InteractionEnv, args: Args): void {
  const count = args.id();
  const config = nodeConfig(args);
  for (let i = 0; i < count; i++) env.addNode(initialStorage(args), config);
}

// ---- commands ---------------------------------------------------------------------------------

function parseConfChange(text: string, args: Args): ConfChange {
  const types: Record<string, ConfChangeType> = {
    v: ConfChangeType.AddVoter,
    l: ConfChangeType.AddLearner,
    r: ConfChangeType.RemoveNode,
  };
  const type = types[text[0] ?? ''];
  if (type === undefined) args.fail(`bad conf change ${text} (want v3, l4 or r2)`);
  return { type, nodeId: toInt(text.slice(1), args), context: EMPTY_BYTES };
}

function proposalData(args: Args): Uint8Array {
  const size = args.int('bytes');
  if (size !== undefined) return new Uint8Array(size).fill('x'.charCodeAt(0));
  const text = args.positional()[1];
  if (text === undefined) args.fail('propose needs data');
  return encoder.encode(text);
}

function messageType(name: string, args: Args): MessageType {
  const type = (MessageType as unknown as Record<string, number>)[name.replace(/^Msg/, '')];
  if (type === undefined) args.fail(`unknown message type ${name}`);
  return type;
}

/** `entries=(2/3,2/4)`: term/index pairs with empty payloads. */
function parseEntries(values: string[], args: Args): Entry[] {
  return values.map((v) => {
    const [term, index] = v.split('/').map((x) => toInt(x, args));
    if (term === undefined || index === undefined) args.fail(`bad entry ${v}`);
    return { term, index, type: EntryType.Normal, data: EMPTY_BYTES };
  });
}

/** `snap=index/term voters=(..) learners=(..)`: a snapshot for a stepped MsgSnap. */
function parseSnapshot(args: Args): Snapshot | undefined {
  const text = args.string('snap');
  if (text === undefined) return undefined;
  const [index, term] = text.split('/').map((x) => toInt(x, args));
  if (index === undefined || term === undefined) args.fail(`bad snap=${text} (want index/term)`);
  const confState = { voters: args.ids('voters') ?? [], learners: args.ids('learners') ?? [] };
  return { metadata: { index, term, confState }, data: EMPTY_BYTES };
}

function rawMessage(args: Args, to: NodeId): Message {
  const from = args.int('from') ?? args.fail('step needs from=ID');
  const context = args.string('context');
  const snapshot = parseSnapshot(args);
  return {
    type: messageType(args.string('type') ?? args.fail('step needs type=MsgX'), args),
    to,
    from,
    term: args.int('term') ?? 0,
    logTerm: args.int('logterm') ?? 0,
    index: args.int('index') ?? 0,
    entries: parseEntries(args.values('entries') ?? [], args),
    commit: args.int('commit') ?? 0,
    reject: args.bool('reject'),
    rejectHint: args.int('hint') ?? 0,
    ...(context === undefined ? {} : { context: encoder.encode(context) }),
    ...(snapshot === undefined ? {} : { snapshot }),
  };
}

function raftState(env: InteractionEnv): void {
  for (const id of env.nodeIds()) {
    if (!env.isUp(id)) {
      env.write(`${id}: down`);
      continue;
    }
    const status = env.rawNode(id).status();
    const { voters, learners } = status.config;
    const role = voters.includes(id) ? 'Voter' : learners.includes(id) ? 'Learner' : 'Non-member';
    const ss = status.softState;
    env.write(`${id}: ${describeStateType(ss.state)} (${role}) Term:${status.hardState.term} Lead:${ss.leader}`);
  }
}

function raftLog(env: InteractionEnv, id: NodeId): void {
  const storage = env.storage(id);
  const first = storage.firstIndex();
  const last = storage.lastIndex();
  if (last < first) {
    env.write(`log is empty: first index=${first}, last index=${last}`);
    return;
  }
  env.write(describeEntries(storage.entries(first, last + 1, UNLIMITED_BYTES)));
}

function applied(env: InteractionEnv, id: NodeId): void {
  const sm = env.stateMachine(id);
  env.write(`applied=${sm.applied} values=[${sm.values.join(' ')}]`);
}

function times(n: number, fn: () => void): void {
  for (let i = 0; i < n; i++) fn();
}

type Handler = (env: InteractionEnv, args: Args) => void;

const HANDLERS: Record<string, Handler> = {
  'add-nodes': addNodes,
  campaign: (env, args) => env.guard(() => env.rawNode(args.id()).campaign()),
  propose: (env, args) => env.guard(() => env.rawNode(args.id()).propose(proposalData(args))),
  'propose-conf-change': (env, args) => {
    const change = parseConfChange(args.positional()[1] ?? args.fail('needs v3, l4 or r2'), args);
    env.guard(() => env.rawNode(args.id()).proposeConfChange(change));
  },
  'process-ready': (env, args) => {
    const ids = args.positionalIds();
    for (const id of ids) {
      if (ids.length === 1) env.processReady(id);
      else {
        env.write(`> ${id} handling Ready`);
        env.withIndent(() => env.processReady(id));
      }
    }
  },
  'deliver-msgs': (env, args) => {
    const drop = new Set(args.ids('drop') ?? []);
    const typeName = args.string('type');
    const type = typeName === undefined ? undefined : messageType(typeName, args);
    env.deliver([...args.positionalIds(true), ...drop], drop, type, args.bool('reverse'));
  },
  stabilize: (env, args) => env.stabilize(args.positionalIds(true)),
  'tick-heartbeat': (env, args) => {
    const id = args.id();
    times(env.config(id).heartbeatTick, () => env.rawNode(id).tick());
  },
  'tick-election': (env, args) => {
    const id = args.id();
    times(env.config(id).electionTick, () => env.rawNode(id).tick());
  },
  tick: (env, args) => {
    const [id, n] = args.positionalIds();
    times(n ?? 1, () => env.rawNode(id!).tick());
  },
  'transfer-leadership': (env, args) => {
    const from = args.int('from') ?? args.fail('needs from=ID');
    const to = args.int('to') ?? args.fail('needs to=ID');
    env.guard(() => env.rawNode(from).transferLeader(to));
  },
  'read-index': (env, args) => {
    const ctx = args.positional()[1] ?? args.fail('read-index needs a context');
    env.guard(() => env.rawNode(args.id()).readIndex(encoder.encode(ctx)));
  },
  'raft-log': (env, args) => raftLog(env, args.id()),
  'raft-state': (env) => raftState(env),
  status: (env, args) => env.write(describeStatus(env.rawNode(args.id()).status())),
  applied: (env, args) => applied(env, args.id()),
  compact: (env, args) => {
    const [id, index] = args.positionalIds();
    if (index === undefined) args.fail('compact needs ID INDEX');
    env.compact(id!, index);
    raftLog(env, id!);
  },
  'report-unreachable': (env, args) => {
    const [id, target] = args.positionalIds();
    env.rawNode(id!).reportUnreachable(target ?? args.fail('needs the unreachable id'));
  },
  'report-snapshot': (env, args) => {
    const [id, target, outcome] = args.positional();
    if (id === undefined || target === undefined) args.fail('report-snapshot needs ID TARGET [fail]');
    env.rawNode(toInt(id, args)).reportSnapshot(toInt(target, args), outcome !== 'fail');
  },
  'forget-leader': (env, args) => env.rawNode(args.id()).forgetLeader(),
  partition: (env, args) => env.partition(args.groups().map((g) => g.map((v) => toInt(v, args)))),
  heal: (env) => env.heal(),
  crash: (env, args) => env.crash(args.id()),
  restart: (env, args) => {
    // A restart may change the node's options, as an operator rolling out pre-vote would.
    const overrides: Partial<NodeConfig> = {};
    if (args.string('prevote') !== undefined) overrides.preVote = args.bool('prevote');
    if (args.string('checkquorum') !== undefined) overrides.checkQuorum = args.bool('checkquorum');
    env.restart(args.id(), overrides);
  },
  'log-level': (env, args) => {
    const level = args.positional()[0];
    if (level !== 'none' && level !== 'info') args.fail(`log-level ${level} (want none or info)`);
    env.setLogging(level === 'info');
  },
  step: (env, args) => {
    const id = args.id();
    const m = rawMessage(args, id);
    env.write(describeMessage(m));
    env.step(id, m);
  },
};

/** Runs one block of a script and returns its output. */
export function runBlock(env: InteractionEnv, block: TestBlock, fileName: string): string {
  const where = `${fileName}:${block.line}`;
  const handler = HANDLERS[block.command];
  if (handler === undefined) throw new Error(`${where}: unknown command ${block.command}`);
  handler(env, new Args(block.args, where));
  return env.takeOutput();
}
