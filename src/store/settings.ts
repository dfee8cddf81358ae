// Capacity settings as replicated state: the byte budget, the eviction watermarks, the grace
// window, the default page TTL (one record for the cluster), and per namespace a byte quota and a
// default TTL. They change only through committed `set-config` / `set-ns-config` commands, so
// every member enforces the same numbers; a snapshot carries them because they are LevelDB
// records like the pages. Until the first leader replicates its config file's values, the
// built-in defaults below apply on every member alike (never a member's own file: members whose
// files disagree would then apply the same put differently).
//
// Ranges are checked twice: by the admin service before proposing (a clear error, no log write)
// and here when a command is applied (two concurrent changes could each be valid alone and
// invalid together; the later one is refused with KVC_INVALID_CONFIG and changes nothing).

import { Packr, Unpackr } from 'msgpackr';
import type { NsSettingChange, NsSettingKey, SettingChange, SettingKey } from '../codec/index.js';
import { LIMITS } from '../limits.js';

const MS_PER_DAY = 24 * 60 * 60 * 1000;

export interface ClusterSettings {
  budgetBytes: number;
  highWatermark: number;
  lowWatermark: number;
  evictionGraceMs: number;
  defaultTtlMs: number;
  /** False until a `set-config` command has been applied (the defaults apply meanwhile). */
  replicated: boolean;
}

export interface NamespaceSettings {
  /** 0 = no quota: only the cluster budget applies. */
  quotaBytes: number;
  /** 0 = the cluster's default TTL. */
  defaultTtlMs: number;
}

export const DEFAULT_BUDGET_BYTES = 4 * 1024 * 1024 * 1024;
export const DEFAULT_EVICTION_GRACE_MS = 10_000;
/** Longest page TTL, namespace or cluster default TTL. */
export const TTL_MS_MAX = 365 * MS_PER_DAY;
/** Longest eviction grace window. */
export const EVICTION_GRACE_MS_MAX = MS_PER_DAY;
/** Largest budget or quota: far above any disk, small enough to stay an exact JS number. */
export const BUDGET_BYTES_MAX = 2 ** 50;

export const DEFAULT_SETTINGS: Readonly<ClusterSettings> = Object.freeze({
  budgetBytes: DEFAULT_BUDGET_BYTES,
  highWatermark: LIMITS.eviction.highWatermarkRatio,
  lowWatermark: LIMITS.eviction.lowWatermarkRatio,
  evictionGraceMs: DEFAULT_EVICTION_GRACE_MS,
  defaultTtlMs: 0,
  replicated: false,
});

export const DEFAULT_NS_SETTINGS: Readonly<NamespaceSettings> = Object.freeze({ quotaBytes: 0, defaultTtlMs: 0 });

/** Why `value` is not acceptable for `key` on its own, or undefined when it is. */
export function settingProblem(key: SettingKey | NsSettingKey, value: number, scope: 'cluster' | 'namespace'): string | undefined {
  if (!Number.isFinite(value) || value < 0) return `${key} must be a non-negative number`;
  switch (key) {
    case 'budgetBytes':
      if (!Number.isSafeInteger(value) || value < LIMITS.page.bytesMax || value > BUDGET_BYTES_MAX) {
        return `budgetBytes must be a whole number of bytes from one largest page (${LIMITS.page.bytesMax}) to ${BUDGET_BYTES_MAX}`;
      }
      return undefined;
    case 'quotaBytes':
      // No minimum: a tenant of small pages may have a small quota; a page larger than its
      // namespace's quota is refused like any put that cannot fit.
      if (!Number.isSafeInteger(value) || value > BUDGET_BYTES_MAX) return `quotaBytes must be a whole number of bytes up to ${BUDGET_BYTES_MAX} (0 = none)`;
      return undefined;
    case 'highWatermark':
    case 'lowWatermark':
      return value > 0 && value <= 1 ? undefined : `${key} must be a fraction in (0, 1]`;
    case 'evictionGraceMs':
      return Number.isSafeInteger(value) && value <= EVICTION_GRACE_MS_MAX ? undefined : `evictionGraceMs must be whole ms from 0 to ${EVICTION_GRACE_MS_MAX}`;
    case 'defaultTtlMs':
      return Number.isSafeInteger(value) && value <= TTL_MS_MAX ? undefined : `${scope === 'cluster' ? '' : 'namespace '}defaultTtlMs must be whole ms from 0 to ${TTL_MS_MAX}`;
    default:
      return `unknown key ${String(key)}`;
  }
}

/** The settings after `changes`, or the first problem with them (each value, then the watermarks' order). */
export function applySettingChanges(current: ClusterSettings, changes: SettingChange[]): ClusterSettings | string {
  const next: ClusterSettings = { ...current, replicated: true };
  for (const [key, value] of changes) {
    const problem = settingProblem(key, value, 'cluster');
    if (problem !== undefined) return problem;
    next[key] = value;
  }
  if (next.lowWatermark >= next.highWatermark) {
    return `lowWatermark (${next.lowWatermark}) must be below highWatermark (${next.highWatermark})`;
  }
  return next;
}

export function applyNsSettingChanges(current: NamespaceSettings, changes: NsSettingChange[]): NamespaceSettings | string {
  const next: NamespaceSettings = { ...current };
  for (const [key, value] of changes) {
    const problem = settingProblem(key, value, 'namespace');
    if (problem !== undefined) return problem;
    next[key] = value;
  }
  return next;
}

// Records off and a fixed field order, so every replica writes the same bytes (see records.ts).
const packr = new Packr({ useRecords: false, structuredClone: false, variableMapSize: false });
const unpackr = new Unpackr({ useRecords: false, structuredClone: false, mapsAsObjects: true });

export function encodeSettings(s: ClusterSettings): Uint8Array {
  return packr.pack([s.budgetBytes, s.highWatermark, s.lowWatermark, s.evictionGraceMs, s.defaultTtlMs]);
}

export function decodeSettings(value: Uint8Array): ClusterSettings {
  const [budgetBytes, highWatermark, lowWatermark, evictionGraceMs, defaultTtlMs] = unpackr.unpack(value) as number[];
  return { budgetBytes: budgetBytes!, highWatermark: highWatermark!, lowWatermark: lowWatermark!, evictionGraceMs: evictionGraceMs!, defaultTtlMs: defaultTtlMs!, replicated: true };
}

export function encodeNsSettings(s: NamespaceSettings): Uint8Array {
  return packr.pack([s.quotaBytes, s.defaultTtlMs]);
}

export function decodeNsSettings(value: Uint8Array): NamespaceSettings {
  const [quotaBytes, defaultTtlMs] = unpackr.unpack(value) as number[];
  return { quotaBytes: quotaBytes!, defaultTtlMs: defaultTtlMs! };
}

export function sameSettings(a: NamespaceSettings, b: NamespaceSettings): boolean {
  return a.quotaBytes === b.quotaBytes && a.defaultTtlMs === b.defaultTtlMs;
}
