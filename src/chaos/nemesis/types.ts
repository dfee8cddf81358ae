// What every nemesis is: a function that injects one fault into the running cluster and returns
// how to heal it. The scheduler (run.ts, schedule.ts) runs one fault at a time: inject, hold the
// window, heal, then a healing gap, so the cluster always keeps a quorum outside one window.
import type { Prng } from '../../sim/index.js';
import type { ChaosCluster } from '../cluster.js';
import type { LeaderObserver } from '../observer.js';

/** The default faults of `kvc chaos`. */
export const NEMESIS_NAMES = ['kill', 'pause', 'partition', 'restart', 'wal-tail', 'membership', 'transfer'] as const;
/** Storage and clock faults (docs/CHAOS.md, "Storage faults"): chosen by name with --nemesis. */
export const STORAGE_NEMESIS_NAMES = ['slow-fsync', 'clock-jump', 'disk-full', 'bit-rot'] as const;
/** Every nemesis --nemesis accepts. */
export const ALL_NEMESIS_NAMES = [...NEMESIS_NAMES, ...STORAGE_NEMESIS_NAMES] as const;
export type NemesisName = (typeof ALL_NEMESIS_NAMES)[number];

export interface NemesisContext {
  cluster: ChaosCluster;
  observer: LeaderObserver;
  prng: Prng;
  log: (line: string) => void;
}

export interface ActiveFault {
  /** Human description for the log and the report: "kill n3 (leader)". */
  detail: string;
  /** The members the fault targets. */
  members: number[];
  /** When the fault took effect (performance.now()), where that is later than the fault's start (a kill picks its target first). */
  injectedMs?: number;
  /** True when the fault is over once injected (a transfer): the scheduler holds no window. */
  instant?: boolean;
  /** Undoes the fault; resolves once the cluster is whole again (members serving). May amend the detail. */
  heal(): Promise<string | void>;
}

export type Nemesis = (ctx: NemesisContext) => Promise<ActiveFault>;
