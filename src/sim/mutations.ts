// Mutation check of the simulator: each mutation is a small textual patch of a copy of src/raft
// that breaks one Raft rule. The copy is imported like the real core and run through the
// simulator until some seed finds a violation; a mutation no seed catches means the simulator's
// faults or invariants are too weak to see that bug. Every pattern must match exactly once, so
// when the core changes under a mutation the runner fails loudly instead of testing nothing.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runSeed, runSeedWithTraceOnViolation } from './run.js';
import type { RaftModule, SimOptions, SimResult } from './types.js';

export interface Patch {
  /** File under src/raft. */
  file: string;
  find: string;
  replace: string;
}

export interface Mutation {
  name: string;
  /** The broken rule, in a sentence. */
  description: string;
  patches: Patch[];
  /**
   * Which checks must catch it: 'safety' (the Raft safety properties and liveness only) or
   * 'protocol' (the protocol rules too, for a mutation no safety property can ever see).
   */
  checks: 'safety' | 'protocol';
}

export const MUTATIONS: Mutation[] = [
  {
    name: 'vote-not-persisted',
    description: 'the hard state handed out in Ready drops the vote, so a restarted node may vote again in the same term',
    patches: [
      {
        file: 'raw-node.ts',
        find: 'if (!sameHardState(hard, this.#prevHardState)) rd.hardState = hard;',
        replace: 'if (!sameHardState(hard, this.#prevHardState)) rd.hardState = { ...hard, vote: 0 };',
      },
      {
        file: 'raw-node.ts',
        find: '...(rd.hardState ? { hardState: rd.hardState } : {}),',
        replace: '...(rd.hardState ? { hardState: hard } : {}),',
      },
    ],
    checks: 'safety',
  },
  {
    name: 'commit-earlier-term-by-counting',
    description: "the leader commits an entry of an earlier term once a quorum holds it (no current-term check, the paper's figure 8)",
    patches: [
      {
        file: 'log.ts',
        find: 'if (index > this.committed && this.termOrZero(index) === term) {',
        replace: 'if (index > this.committed && term > 0) {',
      },
    ],
    checks: 'safety',
  },
  {
    name: 'append-without-prev-term-check',
    description: "a follower appends after the leader's previous index without checking that entry's term",
    patches: [
      {
        file: 'log.ts',
        find: 'if (!this.matchTerm(index, logTerm)) return undefined;',
        replace: 'if (index > this.lastIndex()) return undefined;',
      },
    ],
    checks: 'safety',
  },
  {
    name: 'double-vote',
    description: 'a node without a known leader grants its vote to a second candidate in the same term',
    patches: [
      {
        file: 'raft.ts',
        find: '(this.vote === NONE && this.lead === NONE) ||',
        replace: 'this.lead === NONE ||',
      },
    ],
    checks: 'safety',
  },
  {
    name: 'commit-past-last-new-entry',
    description: "a follower advances its commit index to the leader's, capped only at its own last index, not at the last new entry",
    patches: [
      {
        file: 'log.ts',
        find: 'this.commitTo(Math.min(commit, lastNewIndex));',
        replace: 'this.commitTo(Math.min(commit, this.lastIndex()));',
      },
    ],
    // With this core's leader no safety property can see it: the follower's entries past the last
    // new one are either the current leader's own (committing them up to the leader's commit
    // index is right) or an older leader's divergent tail, and the leader never sends an append
    // that ends before the divergence. Its probing stops exactly at the last matching index and
    // sends the next entry, which conflicts and truncates the tail, with it; appends without
    // entries start at the leader's last index (an entry of its own term, which no foreign tail
    // holds) or go to a follower that already acknowledged this leader (whose tail is then the
    // leader's). So only the receiver rule itself (raft paper figure 2, rule 5) can catch it.
    checks: 'protocol',
  },
  {
    name: 'read-before-term-commit',
    description: 'a new leader serves ReadIndex before an entry of its term commits, at a commit index that may be stale',
    patches: [
      {
        file: 'raft.ts',
        find: `    if (!this.#committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return;
    }
    this.#sendReadIndexResponse(m);`,
        replace: '    this.#sendReadIndexResponse(m);',
      },
    ],
    checks: 'safety',
  },
  {
    name: 'read-without-quorum',
    description: 'the leader serves a safe ReadIndex on the first heartbeat acknowledgement, without a quorum confirming it still leads',
    patches: [{ file: 'raft.ts', find: '    if (votersAcked < this.trk.quorum()) return;\n', replace: '' }],
    checks: 'safety',
  },
];

const SRC_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

function countOccurrences(text: string, pattern: string): number {
  let count = 0;
  for (let at = text.indexOf(pattern); at !== -1; at = text.indexOf(pattern, at + pattern.length)) count++;
  return count;
}

/** Applies the patches to a copy of src (in a fresh temporary folder) and returns that folder. */
export function writeMutatedCopy(mutation: Mutation | undefined): string {
  const dir = mkdtempSync(join(tmpdir(), `kvc-mutation-${mutation?.name ?? 'control'}-`));
  cpSync(join(SRC_ROOT, 'raft'), join(dir, 'src', 'raft'), { recursive: true });
  // The copy must load as ESM, like the original (which gets that from the repository's package.json).
  writeFileSync(join(dir, 'package.json'), '{ "type": "module", "private": true }\n');
  for (const patch of mutation?.patches ?? []) {
    const file = join(dir, 'src', 'raft', patch.file);
    const text = readFileSync(file, 'utf8');
    const found = countOccurrences(text, patch.find);
    if (found !== 1) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(
        `mutation ${mutation!.name}: expected its pattern exactly once in src/raft/${patch.file}, found it ${found} times ` +
          `(the core changed: update src/sim/mutations.ts): ${patch.find}`,
      );
    }
    writeFileSync(file, text.replace(patch.find, patch.replace));
  }
  return dir;
}

/** Imports a patched copy of the Raft core (no patch: an unmutated copy, for the control run). */
export async function loadMutatedRaft(mutation: Mutation | undefined): Promise<{ raft: RaftModule; dir: string }> {
  const dir = writeMutatedCopy(mutation);
  const raft = (await import(pathToFileURL(join(dir, 'src', 'raft', 'index.ts')).href)) as RaftModule;
  return { raft, dir };
}

export interface HuntOptions {
  raft: RaftModule;
  /** Seeds firstSeed..firstSeed+seedBudget-1; odd seeds run 5 nodes, even seeds 3. */
  seedBudget: number;
  stepsMax: number;
  protocolRules: boolean;
  firstSeed?: number;
}

export interface HuntResult {
  seedsRun: number;
  steps: number;
  /** The first violation found, traced; undefined when none was. */
  caught?: SimResult;
}

export function nodesForSeed(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

/** Runs seeds until one finds a violation. */
export function huntViolation(options: HuntOptions): HuntResult {
  let steps = 0;
  const first = options.firstSeed ?? 0;
  for (let i = 0; i < options.seedBudget; i++) {
    const seed = first + i;
    const simOptions: SimOptions = {
      seed,
      nodes: nodesForSeed(seed),
      raft: options.raft,
      stepsMax: options.stepsMax,
      protocolRules: options.protocolRules,
    };
    const result = runSeed(simOptions);
    steps += result.stats.steps;
    if (result.violation !== undefined) return { seedsRun: i + 1, steps, caught: runSeedWithTraceOnViolation(simOptions) };
  }
  return { seedsRun: options.seedBudget, steps };
}

export interface MutationVerdict {
  mutation: string;
  caught: boolean;
  checks: 'safety' | 'protocol';
  seed?: number;
  nodes?: number;
  step?: number;
  invariant?: string;
  violation?: string;
  seedsRun: number;
  seconds: number;
  /** The traced failing run (not serialized in reports). */
  result?: SimResult;
}

/** Loads a mutated copy of the core and hunts a violation with the mutation's checks. */
export async function checkMutation(mutation: Mutation, seedBudget: number, stepsMax: number): Promise<MutationVerdict> {
  const startedAt = performance.now();
  const { raft, dir } = await loadMutatedRaft(mutation);
  try {
    const hunt = huntViolation({ raft, seedBudget, stepsMax, protocolRules: mutation.checks === 'protocol' });
    const seconds = (performance.now() - startedAt) / 1000;
    const verdict: MutationVerdict = { mutation: mutation.name, caught: hunt.caught !== undefined, checks: mutation.checks, seedsRun: hunt.seedsRun, seconds };
    const caught = hunt.caught;
    if (caught?.violation !== undefined) {
      Object.assign(verdict, {
        seed: caught.seed,
        nodes: caught.nodes,
        step: caught.violation.step,
        invariant: caught.violation.invariant,
        violation: caught.violation.message,
        result: caught,
      });
    }
    return verdict;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
