// The fault schedule. A run alternates calm periods, fault windows and recoveries:
// - a fault window combines one to three fault kinds from the catalog below, scheduled on purpose
//   (bursts, faults aimed at the current leader, crashes at the worst moments of the persistence
//   protocol) rather than only as uniform noise;
// - at the end of the window everything heals (links restored, crashed nodes restarted, noise
//   off) and the recovery must elect a leader and commit a fresh proposal within a bound of
//   ticks: missing that bound is a liveness violation.
// Triggers fire on what a node does: crash right after it grants a vote, right after it
// persists appended entries (before acknowledging them), before it persists a Ready at all;
// partition the leader right after it appends (its entries then exist only on its own disk);
// stop a new leader right after its first commit (the moment the paper's figure 8 is about).
// Composite scenarios combine them in the shapes known to break broken Rafts: split votes with
// crashed voters, and leaders that come and go with divergent uncommitted tails.
import type { NodeId, Ready } from '../raft/index.js';
import { InvariantViolation } from './checkers.js';
import { CALM_NOISE } from './network.js';
import type { SimNode } from './sim-node.js';
import type { Simulation } from './simulation.js';

/** Fault windows last this many election timeouts (inclusive range). */
const WINDOW_TIMEOUTS_MIN = 3;
const WINDOW_TIMEOUTS_MAX = 10;
/** Calm periods between a recovery and the next window, in election timeouts. */
const CALM_TIMEOUTS_MIN = 1;
const CALM_TIMEOUTS_MAX = 4;
/** Liveness bound: after a heal, a fresh proposal must commit within this many election timeouts. */
export const LIVENESS_TIMEOUTS_MAX = 40;
/** Most fault kinds combined in one window. */
const KINDS_PER_WINDOW_MAX = 3;
/** Chance that a crash-after-vote lets the vote out first (the candidate counts it). */
const VOTE_SENT_BEFORE_CRASH_RATE = 0.7;
/** Chance that an armed crash-before-persist fires on a given eligible Ready (spreads them out). */
const CRASH_BEFORE_PERSIST_RATE = 0.5;
/** Chance that a stopped new leader is partitioned rather than crashed. */
const STOP_BY_PARTITION_RATE = 0.5;
/** Chance that a composite window also gets one basic fault kind. */
const COMPOSITE_EXTRA_KIND_RATE = 0.5;
/** Network noise of a `noise` window: rates drawn up to these. */
const NOISE_DROP_RATE_MAX = 0.3;
const NOISE_DUPLICATE_RATE_SPAN = 0.2;
const NOISE_DELAY_RATE_MIN = 0.2;
const NOISE_DELAY_RATE_SPAN = 0.6;
/** The split-vote scenario keeps messages mostly alive but duplicated, so late votes arrive. */
const SPLIT_VOTE_DROP_RATE_MAX = 0.05;
const SPLIT_VOTE_DUPLICATE_RATE_MIN = 0.2;
/** Entries in one proposal burst. */
const BURST_ENTRIES_MIN = 10;
const BURST_ENTRIES_MAX = 60;
/** Restart delays, in ticks or election timeouts as named. */
const VOTE_CRASH_RESTART_TICKS_MAX = 3;
const RANDOM_CRASH_RESTART_TIMEOUTS_MAX = 4;
/** Reads on a cut-off leader's side go out after this many election timeouts (inclusive range). */
const STALE_READ_DELAY_TIMEOUTS_MIN = 2;
const STALE_READ_DELAY_TIMEOUTS_MAX = 4;
/** Most candidates in a duel and most nodes with a skewed clock. */
const DUEL_CANDIDATES_MAX = 3;
const SKEWED_CLOCKS_MAX = 2;

export type CrashPoint = 'before-send' | 'after-send';

export interface PlannedCrash {
  point: CrashPoint;
  why: string;
}

interface Armed {
  crashAfterVote: number;
  crashAfterAppend: number;
  crashBeforePersist: number;
  partitionLeaderAfterAppend: number;
  crashNewLeader: number;
  stopLeaderAfterFirstCommit: number;
}

function disarmed(): Armed {
  return {
    crashAfterVote: 0,
    crashAfterAppend: 0,
    crashBeforePersist: 0,
    partitionLeaderAfterAppend: 0,
    crashNewLeader: 0,
    stopLeaderAfterFirstCommit: 0,
  };
}

interface Timed {
  at: number;
  what: string;
  run: () => void;
}

type Scenario = (f: FaultScheduler, end: number) => void;

/** The catalog: each kind schedules its actions within [now, end) or arms triggers. */
const SCENARIOS: Record<string, Scenario> = {
  noise: (f) => f.noisyNetwork(),
  partition: (f, end) => f.repeat(end, 3, 'partition', () => f.randomPartition()),
  'isolate-leader': (f, end) => f.repeat(end, 3, 'isolate leader', () => f.isolateLeader()),
  'one-way': (f, end) => f.repeat(end, 3, 'one-way cut', () => f.oneWayCut()),
  crash: (f, end) => f.repeat(end, 3, 'crash', () => f.crashRandom()),
  'crash-leader': (f, end) => f.repeat(end, 3, 'crash leader', () => f.crashLeader()),
  'crash-new-leader': (f) => f.arm('crashNewLeader', 3),
  'crash-after-vote': (f) => f.arm('crashAfterVote', 4),
  'crash-after-append': (f) => f.arm('crashAfterAppend', 4),
  'crash-before-persist': (f) => f.arm('crashBeforePersist', 3),
  'partition-leader-after-append': (f) => f.arm('partitionLeaderAfterAppend', 3),
  'stop-leader-after-first-commit': (f) => f.arm('stopLeaderAfterFirstCommit', 2),
  dueling: (f, end) => f.repeat(end, 3, 'dueling candidates', () => f.duel()),
  burst: (f, end) => f.repeat(end, 2, 'proposal burst', () => f.burst()),
  'clock-skew': (f) => f.skewClocks(),
  'stale-leader-reads': (f, end) => f.repeat(end, 2, 'leader cut off in a minority, then read there', () => f.staleLeaderReads()),
};

/**
 * Composite scenarios: shapes of fault schedules that known Raft bugs need, each several basic
 * kinds at once with settings tuned to it.
 */
const COMPOSITES: Record<string, Scenario> = {
  // The leader crashes and comes back at once; when the followers' leases have expired, two
  // candidates campaign in the same term; voters crash right after voting and restart at once, a
  // new leader crashes and comes back within its term, vote requests are delayed and duplicated:
  // a voter that forgets its vote, or votes twice, elects two leaders.
  'split-vote-crash': (f, end) => {
    f.arm('crashAfterVote', 4);
    f.arm('crashNewLeader', 2);
    f.noisyNetwork({ dropRateMax: SPLIT_VOTE_DROP_RATE_MAX, duplicateRateMin: SPLIT_VOTE_DUPLICATE_RATE_MIN, delayTicksMax: f.electionTick });
    f.repeat(end, 3, 'leader crash, then dueling candidates', () => f.crashLeaderThenDuel());
  },
  // Leaders partitioned right after appending leave divergent uncommitted tails on several nodes;
  // new leaders are stopped right after their first commit; tiny messages make followers
  // acknowledge old entries one at a time (the paper's figure 8).
  'figure-8': (f, end) => {
    f.arm('partitionLeaderAfterAppend', 4);
    f.arm('stopLeaderAfterFirstCommit', 3);
    f.repeat(end, 3, 'proposal burst', () => f.burst());
    f.repeat(end, 2, 'crash leader', () => f.crashLeader());
  },
};

export const FAULT_KINDS = [...Object.keys(SCENARIOS), ...Object.keys(COMPOSITES)];
/** Probability that a window is built around a composite scenario. */
const COMPOSITE_RATE = 0.35;

export class FaultScheduler {
  readonly #sim: Simulation;
  #phase: 'calm' | 'fault' | 'recover' = 'calm';
  #phaseEnd: number;
  #healedAt = 0;
  #probeFloor = 0;
  #timed: Timed[] = [];
  readonly #restartAt = new Map<NodeId, number>();
  #armed: Armed = disarmed();
  /** Leaders elected recently and their commit index then (for the first-commit trigger). */
  readonly #newLeaders = new Map<NodeId, { term: number; commit: number }>();
  /** Nodes cut off by #isolateNow and not yet reconnected. */
  readonly #isolated = new Set<NodeId>();

  constructor(sim: Simulation) {
    this.#sim = sim;
    this.#phaseEnd = this.#ticks(CALM_TIMEOUTS_MIN, CALM_TIMEOUTS_MAX);
  }

  get recovering(): boolean {
    return this.#phase === 'recover';
  }

  get livenessTicksMax(): number {
    return LIVENESS_TIMEOUTS_MAX * this.#sim.params.electionTick;
  }

  #ticks(minTimeouts: number, maxTimeouts: number): number {
    const e = this.#sim.params.electionTick;
    return this.#sim.prng.range(minTimeouts * e, maxTimeouts * e);
  }

  beforeTick(): void {
    const now = this.#sim.now;
    if (this.#timed.length > 0) {
      const due = this.#timed.filter((t) => t.at <= now);
      this.#timed = this.#timed.filter((t) => t.at > now);
      for (const t of due) {
        this.#sim.event(() => `fault: ${t.what}`);
        t.run();
      }
    }
    for (const [id, at] of this.#restartAt) {
      if (at > now) continue;
      this.#restartAt.delete(id);
      const node = this.#sim.nodes.get(id);
      if (node !== undefined) this.#sim.restart(node, 'scheduled');
    }
    if (this.#phase === 'calm' && now >= this.#phaseEnd) this.#startWindow();
    else if (this.#phase === 'fault' && now >= this.#phaseEnd) this.#heal();
  }

  afterTick(): void {
    if (this.#phase !== 'recover') return;
    const waited = this.#sim.now - this.#healedAt;
    if (waited > this.livenessTicksMax) {
      throw new InvariantViolation(
        'liveness',
        `no fresh proposal committed within ${this.livenessTicksMax} ticks after the faults healed at tick ${this.#healedAt}`,
      );
    }
  }

  #startWindow(): void {
    const sim = this.#sim;
    this.#phase = 'fault';
    this.#phaseEnd = sim.now + this.#ticks(WINDOW_TIMEOUTS_MIN, WINDOW_TIMEOUTS_MAX);
    const basic = Object.keys(SCENARIOS);
    const kinds: string[] = [];
    if (sim.prng.chance(COMPOSITE_RATE)) {
      kinds.push(sim.prng.pick(Object.keys(COMPOSITES)));
      if (sim.prng.chance(COMPOSITE_EXTRA_KIND_RATE)) kinds.push(sim.prng.pick(basic));
    } else {
      kinds.push(...sim.prng.shuffle(basic).slice(0, sim.prng.range(1, KINDS_PER_WINDOW_MAX)));
    }
    sim.event(() => `fault window until t${this.#phaseEnd}: ${kinds.join(', ')}`);
    for (const kind of kinds) {
      sim.countFault(kind);
      (SCENARIOS[kind] ?? COMPOSITES[kind]!)(this, this.#phaseEnd);
    }
  }

  #heal(): void {
    const sim = this.#sim;
    this.#phase = 'recover';
    this.#healedAt = sim.now;
    this.#timed = [];
    this.#armed = disarmed();
    this.#restartAt.clear();
    this.#isolated.clear();
    sim.network.healLinks();
    sim.network.noise = CALM_NOISE;
    sim.event(() => 'heal: links restored, noise off, crashed nodes restart');
    for (const node of sim.liveMembers()) {
      node.clockSkew = 0;
      sim.restart(node, 'heal');
    }
    this.#probeFloor = sim.client.nextProbeId;
    sim.stats.livenessChecks++;
  }

  /** The client saw probe `id` applied: a fresh proposal committed. */
  onProbeApplied(id: number): void {
    if (this.#phase !== 'recover' || id < this.#probeFloor) return;
    const sim = this.#sim;
    const waited = sim.now - this.#healedAt;
    sim.stats.livenessTicksMax = Math.max(sim.stats.livenessTicksMax, waited);
    sim.event(() => `liveness: probe ${id} committed ${waited} ticks after the heal`);
    this.#phase = 'calm';
    this.#phaseEnd = sim.now + this.#ticks(CALM_TIMEOUTS_MIN, CALM_TIMEOUTS_MAX);
  }

  // ---- triggers (called by the simulation's driver) --------------------------------------------

  crashBeforePersist(node: SimNode, rd: Ready): boolean {
    if (this.#armed.crashBeforePersist === 0) return false;
    if (rd.entries.length === 0 && rd.hardState === undefined) return false;
    if (!this.#sim.prng.chance(CRASH_BEFORE_PERSIST_RATE)) return false;
    this.#armed.crashBeforePersist--;
    this.#sim.crash(node, 'before persisting its Ready');
    this.#restartLater(node, 1, this.#sim.params.electionTick);
    return true;
  }

  /** Crash points after persisting; the simulation crashes the node at the returned point. */
  crashAfterPersist(node: SimNode, rd: Ready): PlannedCrash | undefined {
    const sim = this.#sim;
    const { MessageType, StateType } = sim.raft;
    const isLeader = node.rn!.raft.state === StateType.Leader;
    if (this.#armed.crashAfterVote > 0 && rd.messages.some((m) => m.type === MessageType.VoteResp && !m.reject)) {
      this.#armed.crashAfterVote--;
      const point: CrashPoint = sim.prng.chance(VOTE_SENT_BEFORE_CRASH_RATE) ? 'after-send' : 'before-send';
      this.#restartLater(node, 0, VOTE_CRASH_RESTART_TICKS_MAX);
      return { point, why: `right after granting a vote, ${point === 'after-send' ? 'vote sent' : 'vote not sent'}` };
    }
    if (this.#armed.crashAfterAppend > 0 && rd.entries.length > 0 && !isLeader) {
      this.#armed.crashAfterAppend--;
      this.#restartLater(node, 1, 2 * sim.params.electionTick);
      return { point: 'before-send', why: 'right after appending, before acknowledging' };
    }
    if (this.#armed.partitionLeaderAfterAppend > 0 && rd.entries.length > 0 && isLeader && !this.#isolated.has(node.id)) {
      this.#armed.partitionLeaderAfterAppend--;
      this.#isolateNow(node, 'leader partitioned right after appending');
    }
    if (isLeader && rd.hardState !== undefined && this.#isFirstCommitOfNewLeader(node, rd.hardState.term, rd.hardState.commit)) {
      return this.#stopLeaderAfterFirstCommit(node);
    }
    return undefined;
  }

  #isFirstCommitOfNewLeader(node: SimNode, term: number, commit: number): boolean {
    const elected = this.#newLeaders.get(node.id);
    if (elected === undefined || elected.term !== term || commit <= elected.commit) return false;
    this.#newLeaders.delete(node.id);
    return this.#armed.stopLeaderAfterFirstCommit > 0;
  }

  /** Crash (its commit index persisted, nothing sent) or isolate a leader that just committed. */
  #stopLeaderAfterFirstCommit(node: SimNode): PlannedCrash | undefined {
    const sim = this.#sim;
    this.#armed.stopLeaderAfterFirstCommit--;
    if (sim.prng.chance(STOP_BY_PARTITION_RATE)) {
      this.#isolateNow(node, 'new leader partitioned right after its first commit');
      return undefined;
    }
    this.#restartLater(node, sim.params.electionTick, 3 * sim.params.electionTick);
    return { point: 'before-send', why: 'new leader crashes right after its first commit' };
  }

  #restartLater(node: SimNode, minTicks: number, maxTicks: number): void {
    this.#restartAt.set(node.id, this.#sim.now + this.#sim.prng.range(minTicks, maxTicks));
  }

  onNewLeader(node: SimNode): void {
    const r = node.rn!.raft;
    this.#newLeaders.set(node.id, { term: r.term, commit: r.raftLog.committed });
    if (this.#armed.crashNewLeader === 0) return;
    this.#armed.crashNewLeader--;
    const sim = this.#sim;
    sim.defer(() => sim.crash(node, 'new leader crashes at once'));
    this.#restartLater(node, 0, Math.ceil(sim.params.electionTick / 2));
  }

  // ---- scenario building blocks ------------------------------------------------------------------

  arm(trigger: keyof Armed, countMax: number): void {
    this.#armed[trigger] += this.#sim.prng.range(1, countMax);
  }

  /** Runs `action` 1..countMax times at random ticks before `end`. */
  repeat(end: number, countMax: number, what: string, action: () => void): void {
    const sim = this.#sim;
    const count = sim.prng.range(1, countMax);
    for (let i = 0; i < count; i++) this.#timed.push({ at: sim.prng.range(sim.now, end - 1), what, run: action });
  }

  #later(delay: number, what: string, run: () => void): void {
    this.#timed.push({ at: this.#sim.now + delay, what, run });
  }

  get electionTick(): number {
    return this.#sim.params.electionTick;
  }

  noisyNetwork(shape: { dropRateMax?: number; duplicateRateMin?: number; delayTicksMax?: number } = {}): void {
    const { prng, params, network } = this.#sim;
    const duplicateRateMin = shape.duplicateRateMin ?? 0;
    network.noise = {
      dropRate: prng.float() * (shape.dropRateMax ?? NOISE_DROP_RATE_MAX),
      duplicateRate: duplicateRateMin + prng.float() * NOISE_DUPLICATE_RATE_SPAN,
      delayRate: NOISE_DELAY_RATE_MIN + prng.float() * NOISE_DELAY_RATE_SPAN,
      delayTicksMax: prng.range(1, shape.delayTicksMax ?? 2 * params.electionTick),
    };
    this.#sim.event(() => `noise ${JSON.stringify(network.noise)}`);
  }

  randomPartition(): void {
    const { prng, network } = this.#sim;
    const ids = prng.shuffle(this.#sim.liveMembers().map((n) => n.id));
    if (ids.length < 2) return;
    const cut = prng.range(1, ids.length - 1);
    const groups = [ids.slice(0, cut), ids.slice(cut)];
    network.healLinks();
    this.#isolated.clear();
    network.partition(groups);
    this.#sim.event(() => `partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
  }

  isolateLeader(): void {
    const leader = this.#sim.leader();
    if (leader !== undefined) this.#isolateNow(leader, 'leader isolated');
  }

  #isolateNow(node: SimNode, why: string): void {
    const sim = this.#sim;
    if (this.#isolated.has(node.id)) return;
    const others = sim.liveMembers().map((n) => n.id);
    sim.network.isolate(node.id, others);
    this.#isolated.add(node.id);
    sim.event(() => `isolate ${node.id} (${why})`);
    const delay = this.#ticks(1, 3);
    this.#later(delay, `reconnect ${node.id}`, () => {
      this.#isolated.delete(node.id);
      sim.network.reconnect(node.id);
    });
  }

  oneWayCut(): void {
    const sim = this.#sim;
    const { prng, network } = sim;
    const ids = sim.liveMembers().map((n) => n.id);
    const leader = sim.leader();
    const mode = prng.int(3);
    if (leader !== undefined && mode === 0) {
      for (const o of ids) network.cutOneWay(leader.id, o);
      sim.event(() => `one-way: leader ${leader.id} cannot send`);
    } else if (leader !== undefined && mode === 1) {
      for (const o of ids) network.cutOneWay(o, leader.id);
      sim.event(() => `one-way: nobody reaches leader ${leader.id}`);
    } else {
      const links = prng.range(1, ids.length);
      for (let i = 0; i < links; i++) {
        const from = prng.pick(ids);
        const to = prng.pick(ids);
        network.cutOneWay(from, to);
        sim.event(() => `one-way: cut ${from}->${to}`);
      }
    }
  }

  /**
   * Cuts the leader off with as many followers as stay a minority; once the majority has had
   * time to elect a leader and commit, reads go to the old leader's side, which must not serve
   * them (a stale leader answering from its own commit index breaks linearizability).
   */
  staleLeaderReads(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) return;
    const others = sim.prng.shuffle(sim.liveMembers().map((n) => n.id).filter((id) => id !== leader.id));
    const minority = [leader.id, ...others.slice(0, Math.floor((others.length + 1) / 2) - 1)];
    const majority = others.filter((id) => !minority.includes(id));
    sim.network.healLinks();
    this.#isolated.clear();
    sim.network.partition([minority, majority]);
    sim.event(() => `partition leader's side {${minority.join(',')}} | {${majority.join(',')}}`);
    for (let k = STALE_READ_DELAY_TIMEOUTS_MIN; k <= STALE_READ_DELAY_TIMEOUTS_MAX; k++) {
      this.#later(k * sim.params.electionTick, `reads on the old leader's side {${minority.join(',')}}`, () => {
        for (const id of minority) {
          const node = sim.nodes.get(id);
          if (node?.up) sim.client.readAt(node);
        }
      });
    }
  }

  crashRandom(): void {
    const sim = this.#sim;
    const up = sim.upNodes();
    if (up.length === 0) return;
    const node = sim.prng.pick(up);
    sim.crash(node, 'random crash');
    this.#restartLater(node, 1, RANDOM_CRASH_RESTART_TIMEOUTS_MAX * sim.params.electionTick);
  }

  crashLeader(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) return;
    sim.crash(leader, 'leader crash');
    this.#restartLater(leader, 0, sim.params.electionTick);
  }

  /** Two or three voters campaign in the same tick: split votes, same-term candidates. */
  duel(): void {
    const sim = this.#sim;
    const voters = sim.upNodes().filter((n) => sim.clusterConf.voters.includes(n.id));
    const count = Math.min(voters.length, sim.prng.range(2, DUEL_CANDIDATES_MAX));
    for (const node of sim.prng.shuffle(voters).slice(0, count)) {
      sim.event(() => `campaign ${node.id}`);
      sim.coreCall(() => node.rn!.campaign());
      sim.afterNodeEvent(node);
    }
  }

  crashLeaderThenDuel(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader === undefined) {
      this.duel();
      return;
    }
    sim.crash(leader, 'leader crash before dueling candidates');
    this.#restartLater(leader, 0, 2);
    // Followers ignore votes while their lease on the old leader lasts (check-quorum).
    this.#later(sim.params.electionTick + 1, 'dueling candidates', () => this.duel());
  }

  burst(): void {
    const sim = this.#sim;
    const leader = sim.leader();
    if (leader !== undefined) sim.client.burst(leader, sim.prng.range(BURST_ENTRIES_MIN, BURST_ENTRIES_MAX));
  }

  skewClocks(): void {
    const sim = this.#sim;
    for (const node of sim.prng.shuffle(sim.upNodes()).slice(0, sim.prng.range(1, SKEWED_CLOCKS_MAX))) {
      node.clockSkew = sim.prng.chance(0.5) ? 1 : -1;
      sim.event(() => `clock of ${node.id} runs ${node.clockSkew > 0 ? 'fast' : 'slow'}`);
    }
  }
}
