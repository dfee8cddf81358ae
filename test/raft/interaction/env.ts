// The interaction environment behind the scripted Raft tests (etcd-raft's rafttest.InteractionEnv,
// in our words): N RawNodes, each with a MemoryStorage as its "disk" and a tiny state machine,
// and one shared queue of messages in flight. Nothing happens unless a script command asks for
// it: a Ready is handled only on `process-ready`/`stabilize`, a message moves only on
// `deliver-msgs`/`stabilize`, time passes only on `tick-*`. Every step writes what it did to the
// output: the core's own log lines and etcd-style descriptions of Readies and messages.
//
// The driver loop is the one the node driver runs (persist, send, apply, advance), and while it
// applies it checks what any correct core must guarantee (committed entries applied in order,
// durable, no further than the durable commit index, and the same entry at an index on every
// node: State Machine Safety); a violation is written as a `BUG:`
// line and recorded in `violations`, so a rewritten expected output can never hide it.

import {
  EntryType,
  MemoryStorage,
  RaftError,
  RawNode,
  decodeConfChange,
  isEmptySnapshot,
} from '../../../src/raft/index.js';
import type { ConfState, Entry, Message, NodeId, RaftConfig, Ready, Snapshot } from '../../../src/raft/index.js';
import { describeMessage, describePayload, describeReady } from '../../../src/raft/describe.js';

/** Rounds of `stabilize` before it gives up: a livelock in a script is a bug, not a hang. */
const STABILIZE_ROUNDS_MAX = 1000;

/** The node configuration a script chooses; id, storage and applied are filled in per node. */
export type NodeConfig = Omit<RaftConfig, 'id' | 'storage' | 'applied' | 'logger' | 'randomInt'>;

/** What a node applied, kept so that `compact` can snapshot any applied index. */
interface AppliedPoint {
  valueCount: number;
  confState: ConfState;
}

/** The replicated state machine: the payloads of applied normal entries, in order. */
interface StateMachine {
  applied: number;
  values: string[];
  confState: ConfState;
  history: Map<number, AppliedPoint>;
}

interface NodeSlot {
  id: NodeId;
  storage: MemoryStorage;
  config: NodeConfig;
  rawNode: RawNode | undefined;
  stateMachine: StateMachine;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Snapshot data is the JSON list of applied values, so a restored node can show what it holds. */
export function encodeStateMachine(values: readonly string[]): Uint8Array {
  return encoder.encode(JSON.stringify(values));
}

function decodeStateMachine(data: Uint8Array): string[] {
  if (data.byteLength === 0) return [];
  try {
    const parsed: unknown = JSON.parse(decoder.decode(data));
    if (Array.isArray(parsed) && parsed.every((v) => typeof v === 'string')) return parsed;
  } catch {
    // Not our encoding (an `add-nodes content=` snapshot): keep the raw content as one value.
  }
  return [describePayload(data)];
}

function stateMachineFromSnapshot(snapshot: Snapshot): StateMachine {
  const { index, confState } = snapshot.metadata;
  const values = decodeStateMachine(snapshot.data);
  const history = new Map<number, AppliedPoint>([[index, { valueCount: values.length, confState }]]);
  return { applied: index, values, confState, history };
}

export class InteractionEnv {
  readonly #nodes = new Map<NodeId, NodeSlot>();
  #messages: Message[] = [];
  #lines: string[] = [];
  #indent = '';
  #logging = true;
  /** Node id → partition group; undefined when the network is whole. */
  #groups: Map<NodeId, number> | undefined;
  readonly violations: string[] = [];
  /** Term of the entry applied at each index by any node: State Machine Safety (paper §5.4.3). */
  readonly #appliedTerms = new Map<number, number>();

  // ---- output -------------------------------------------------------------------------------

  /** Writes one or more lines (a trailing newline is ignored) at the current indentation. */
  write(text: string): void {
    const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
    for (const line of lines) this.#lines.push(`${this.#indent}${line}`);
  }

  /** The output written since the last call ("ok" when a command wrote nothing, as etcd does). */
  takeOutput(): string {
    const out = this.#lines.length === 0 ? 'ok' : this.#lines.join('\n');
    this.#lines = [];
    return out;
  }

  withIndent(fn: () => void): void {
    const saved = this.#indent;
    this.#indent += '  ';
    try {
      fn();
    } finally {
      this.#indent = saved;
    }
  }

  setLogging(on: boolean): void {
    this.#logging = on;
  }

  #bug(text: string): void {
    this.violations.push(text);
    this.write(`BUG: ${text}`);
  }

  // ---- nodes --------------------------------------------------------------------------------

  nodeIds(): NodeId[] {
    return [...this.#nodes.keys()].sort((a, b) => a - b);
  }

  /** Adds a node with the next free id on `storage` (already holding whatever the script set up). */
  addNode(storage: MemoryStorage, config: NodeConfig): NodeId {
    const id = this.#nodes.size + 1;
    const stateMachine = stateMachineFromSnapshot(storage.snapshot());
    const slot: NodeSlot = { id, storage, config, rawNode: undefined, stateMachine };
    this.#nodes.set(id, slot);
    slot.rawNode = this.#newRawNode(slot);
    return id;
  }

  #newRawNode(slot: NodeSlot): RawNode {
    return new RawNode({
      ...slot.config,
      id: slot.id,
      storage: slot.storage,
      applied: slot.stateMachine.applied,
      // A fixed "random" draw makes every election timeout exactly electionTick, so scripts replay.
      randomInt: () => 0,
      logger: (line) => {
        if (this.#logging) this.write(line);
      },
    });
  }

  #slot(id: NodeId): NodeSlot {
    const slot = this.#nodes.get(id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }

  /** The running RawNode of `id`; a command on a crashed node is a mistake in the script. */
  rawNode(id: NodeId): RawNode {
    const rawNode = this.#slot(id).rawNode;
    if (rawNode === undefined) throw new Error(`node ${id} is down (crashed)`);
    return rawNode;
  }

  isUp(id: NodeId): boolean {
    return this.#slot(id).rawNode !== undefined;
  }

  config(id: NodeId): NodeConfig {
    return this.#slot(id).config;
  }

  storage(id: NodeId): MemoryStorage {
    return this.#slot(id).storage;
  }

  stateMachine(id: NodeId): Readonly<StateMachine> {
    return this.#slot(id).stateMachine;
  }

  /** Drops the RawNode (its memory) and keeps its storage (its disk); the state machine is lost. */
  crash(id: NodeId): void {
    this.rawNode(id);
    this.#slot(id).rawNode = undefined;
  }

  /**
   * Builds a new RawNode on the node's storage. The state machine is volatile: it comes back
   * from the storage's snapshot, so the core must hand out the committed entries after it again.
   */
  restart(id: NodeId, overrides: Partial<NodeConfig> = {}): void {
    const slot = this.#slot(id);
    if (slot.rawNode !== undefined) throw new Error(`node ${id} is running; crash it first`);
    slot.config = { ...slot.config, ...overrides };
    slot.stateMachine = stateMachineFromSnapshot(slot.storage.snapshot());
    slot.rawNode = this.#newRawNode(slot);
  }

  /** Snapshots node `id`'s state machine at applied index `index` and compacts its log there. */
  compact(id: NodeId, index: number): void {
    const slot = this.#slot(id);
    const point = slot.stateMachine.history.get(index);
    if (point === undefined) throw new Error(`node ${id} has not applied index ${index}`);
    const data = encodeStateMachine(slot.stateMachine.values.slice(0, point.valueCount));
    slot.storage.createSnapshot(index, point.confState, data);
    slot.storage.compact(index);
  }

  // ---- the network --------------------------------------------------------------------------

  /** Splits the network: messages between different groups are dropped (unlisted ids are alone). */
  partition(groups: NodeId[][]): void {
    const map = new Map<NodeId, number>();
    groups.forEach((group, g) => group.forEach((id) => map.set(id, g)));
    let alone = groups.length;
    for (const id of this.nodeIds()) if (!map.has(id)) map.set(id, alone++);
    this.#groups = map;
  }

  heal(): void {
    this.#groups = undefined;
  }

  #cutOff(m: Message): boolean {
    if (!this.isUp(m.to)) return true;
    return this.#groups !== undefined && this.#groups.get(m.from) !== this.#groups.get(m.to);
  }

  hasMessagesFor(id: NodeId): boolean {
    return this.#messages.some((m) => m.to === id);
  }

  /**
   * Delivers (steps) the queued messages addressed to each id in turn, in the order sent.
   * Messages to `drop` ids, to crashed nodes or across a partition are removed and shown as
   * `dropped:`; `reverse` delivers each node's messages newest first (reordering on the wire).
   * Returns how many messages were taken off the queue.
   */
  deliver(ids: NodeId[], drop: ReadonlySet<NodeId>, type?: number, reverse = false): number {
    let taken = 0;
    for (const id of ids) {
      const picked = (m: Message) => m.to === id && (type === undefined || m.type === type);
      const mine = this.#messages.filter(picked);
      if (reverse) mine.reverse();
      this.#messages = this.#messages.filter((m) => !picked(m));
      taken += mine.length;
      for (const m of mine) {
        if (drop.has(id) || this.#cutOff(m)) {
          this.write(`dropped: ${describeMessage(m)}`);
          continue;
        }
        this.write(describeMessage(m));
        this.step(id, m);
      }
    }
    return taken;
  }

  /** Steps one message into `id`, writing a RaftError (an operating error) instead of throwing it. */
  step(id: NodeId, m: Message): void {
    this.guard(() => this.rawNode(id).step(m));
  }

  /** Runs `fn`, writing a RaftError as `error: code` (the core's expected failures). */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
      this.write(`error: ${err.code}`);
    }
  }

  // ---- the driver loop ----------------------------------------------------------------------

  /** Handles one Ready of node `id` as the node driver does: persist, send, apply, advance. */
  processReady(id: NodeId): void {
    const slot = this.#slot(id);
    const rawNode = this.rawNode(id);
    if (!rawNode.hasReady()) {
      this.write('<empty Ready>');
      return;
    }
    const rd = rawNode.ready();
    this.write(describeReady(rd));
    this.#checkReady(id, rd);
    this.#persist(slot, rd);
    this.#messages.push(...rd.messages);
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) {
      slot.stateMachine = stateMachineFromSnapshot(rd.snapshot);
    }
    for (const entry of rd.committedEntries) this.#apply(slot, rawNode, entry);
    rawNode.advance();
  }

  /**
   * What must be durable before the Ready's messages leave (types.ts, Ready): a snapshot replaces
   * the log, and the MsgAppResp of the same Ready acknowledges it, so it needs an fsync too.
   */
  #checkReady(id: NodeId, rd: Ready): void {
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot) && !rd.mustSync) {
      this.#bug(`${id} Ready installs snapshot ${rd.snapshot.metadata.index} but mustSync is false`);
    }
  }

  #persist(slot: NodeSlot, rd: Ready): void {
    if (rd.snapshot !== undefined && !isEmptySnapshot(rd.snapshot)) slot.storage.applySnapshot(rd.snapshot);
    slot.storage.append(rd.entries);
    if (rd.hardState !== undefined) slot.storage.setHardState(rd.hardState);
  }

  #apply(slot: NodeSlot, rawNode: RawNode, entry: Entry): void {
    const sm = slot.stateMachine;
    if (entry.index !== sm.applied + 1) this.#bug(`${slot.id} applies ${entry.index} after ${sm.applied}`);
    const durableCommit = slot.storage.initialState().hardState.commit;
    if (entry.index > durableCommit) this.#bug(`${slot.id} applies ${entry.index} above durable commit ${durableCommit}`);
    if (entry.index >= slot.storage.firstIndex() && entry.index <= slot.storage.lastIndex()) {
      const stored = slot.storage.term(entry.index);
      if (stored !== entry.term) this.#bug(`${slot.id} applies ${entry.term}/${entry.index} but stored term is ${stored}`);
    } else {
      this.#bug(`${slot.id} applies ${entry.index}, which is not in its durable log`);
    }
    const appliedTerm = this.#appliedTerms.get(entry.index);
    if (appliedTerm === undefined) this.#appliedTerms.set(entry.index, entry.term);
    else if (appliedTerm !== entry.term) {
      this.#bug(`${slot.id} applies ${entry.term}/${entry.index} but another node applied term ${appliedTerm} there`);
    }
    if (entry.type === EntryType.ConfChange) {
      sm.confState = rawNode.applyConfChange(decodeConfChange(entry.data));
    } else if (entry.data.byteLength > 0) {
      sm.values.push(describePayload(entry.data));
    }
    sm.applied = entry.index;
    sm.history.set(entry.index, { valueCount: sm.values.length, confState: sm.confState });
  }

  /**
   * Handles Readies and delivers messages among `ids` (all nodes when empty) until nothing is
   * left to do, etcd's `stabilize`. Messages to nodes outside `ids` stay queued.
   */
  stabilize(ids: NodeId[]): void {
    const nodes = ids.length > 0 ? ids : this.nodeIds();
    for (let round = 0; round < STABILIZE_ROUNDS_MAX; round++) {
      let done = true;
      for (const id of nodes) {
        if (!this.isUp(id) || !this.rawNode(id).hasReady()) continue;
        this.write(`> ${id} handling Ready`);
        this.withIndent(() => this.processReady(id));
        done = false;
      }
      for (const id of nodes) {
        if (!this.hasMessagesFor(id)) continue;
        this.write(`> ${id} receiving messages`);
        this.withIndent(() => this.deliver([id], new Set()));
        done = false;
      }
      if (done) return;
    }
    throw new Error(`stabilize did not settle within ${STABILIZE_ROUNDS_MAX} rounds`);
  }
}
