// The convergence checker: after healing, every member reached the same applied index and the
// same state digest, and serves the same pages. The harness waits for this (within its bound)
// before it reads the final states, so what it recorded is what is judged here. A history with no
// final states has not shown convergence and fails.
import type { History, MemberFinalState, PageValue } from '../history.js';
import { EXAMPLES_MAX, sameValue, valueId } from './common.js';

export interface ConvergenceResult {
  converged: boolean;
  members: number;
  appliedIndexes: Record<number, number>;
  digests: Record<number, string>;
  /** Keys on which members disagree (count, and examples as sentences). */
  keysDiffering: number;
  differences: string[];
}

function describe(value: PageValue | null | undefined): string {
  return value === null || value === undefined ? 'nothing' : valueId(value);
}

/** A sentence saying what two members hold for one key. */
function pageDifference(reference: MemberFinalState, other: MemberFinalState, key: string): string {
  return (
    `key ${key}: member ${reference.member} holds ${describe(reference.pages[key])}, ` +
    `member ${other.member} holds ${describe(other.pages[key])}`
  );
}

/** The keys (hex, as in the finals) that not every member answered alike; absent and null are alike. */
export function differingKeys(finals: readonly MemberFinalState[]): Set<string> {
  const differing = new Set<string>();
  const [reference, ...others] = finals;
  if (reference === undefined) return differing;
  const keys = new Set(finals.flatMap((f) => Object.keys(f.pages)));
  for (const key of keys) if (others.some((other) => !sameValue(reference.pages[key], other.pages[key]))) differing.add(key);
  return differing;
}

export function checkConvergence(history: Pick<History, 'finals'>): ConvergenceResult {
  const finals = history.finals;
  const result: ConvergenceResult = {
    converged: finals.length > 0,
    members: finals.length,
    appliedIndexes: Object.fromEntries(finals.map((f) => [f.member, f.appliedIndex])),
    digests: Object.fromEntries(finals.map((f) => [f.member, f.digest])),
    keysDiffering: 0,
    differences: finals.length > 0 ? [] : ['no member reported a final state'],
  };
  if (finals.length === 0) return result;
  const [reference, ...others] = finals;
  const differing = differingKeys(finals);
  const keys = [...differing].sort();
  for (const other of others) {
    if (other.appliedIndex !== reference.appliedIndex) {
      result.differences.push(
        `applied index: member ${reference.member} at ${reference.appliedIndex}, member ${other.member} at ${other.appliedIndex}`,
      );
    }
    if (other.digest !== reference.digest) {
      result.differences.push(`digest: member ${reference.member} ${reference.digest}, member ${other.member} ${other.digest}`);
    }
    for (const key of keys) {
      if (!sameValue(reference.pages[key], other.pages[key])) result.differences.push(pageDifference(reference, other, key));
    }
  }
  result.keysDiffering = differing.size;
  result.converged = result.differences.length === 0;
  result.differences = result.differences.slice(0, EXAMPLES_MAX);
  return result;
}
