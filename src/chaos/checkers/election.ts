// The election-safety checker: at most one leader per term (Raft's first safety property), from
// every observation of a member calling itself leader (status polls, member logs). Two members
// seen leading the same term at any times is a violation: a term has one leader for its whole
// life, so the observations need not overlap in time.
import type { History } from '../history.js';
import { EXAMPLES_MAX } from './common.js';

export interface TermWithLeaders {
  term: number;
  members: number[];
}

export interface ElectionResult {
  /** Terms in which some leader was observed. */
  terms: number;
  /** The most distinct leaders seen in one term (0 when none was observed). */
  leadersPerTermMax: number;
  /** Terms with more than one leader: count and examples (at most EXAMPLES_MAX, by term). */
  termsWithManyLeaders: number;
  offending: TermWithLeaders[];
}

export function checkElectionSafety(history: Pick<History, 'leaders'>): ElectionResult {
  const leadersByTerm = new Map<number, Set<number>>();
  for (const observation of history.leaders) {
    let members = leadersByTerm.get(observation.term);
    if (members === undefined) {
      members = new Set();
      leadersByTerm.set(observation.term, members);
    }
    members.add(observation.member);
  }
  let leadersPerTermMax = 0;
  const offending: TermWithLeaders[] = [];
  for (const [term, members] of [...leadersByTerm].sort(([a], [b]) => a - b)) {
    leadersPerTermMax = Math.max(leadersPerTermMax, members.size);
    if (members.size > 1) offending.push({ term, members: [...members].sort((a, b) => a - b) });
  }
  return {
    terms: leadersByTerm.size,
    leadersPerTermMax,
    termsWithManyLeaders: offending.length,
    offending: offending.slice(0, EXAMPLES_MAX),
  };
}
