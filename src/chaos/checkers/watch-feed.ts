// The Watch feed checker: what one watcher, resuming across every fault of the run, delivered
// from log index 1 must be the cluster's history of page-set changes.
// - No duplicate: no change twice (the same index, type, key and value), and no page value stored
//   at two indexes (the workload writes every value once).
// - Log order: indexes never go back.
// - No gap: every acknowledged put (`ok`, `stored`) has a stored change of its key and value —
//   provided the feed reached the converged applied index (else that is the finding).
// - Order of acknowledged puts: when put A was acknowledged before put B was invoked, A's change
//   comes before B's (a smaller index).
import type { History, Operation, WatchedChange } from '../history.js';
import { EXAMPLES_MAX } from './common.js';

export interface WatchFeedResult {
  /** False when the history has no watch record (then the checker found nothing either way). */
  checked: boolean;
  changes: number;
  resumes: number;
  reachedTarget: boolean;
  duplicates: number;
  outOfOrder: number;
  /** Acknowledged puts without their stored change. */
  missingPuts: number;
  /** Pairs of acknowledged puts whose changes came in the other order than real time demands. */
  reorderedPuts: number;
  examples: string[];
}

const identity = (key: string, crc32c: number | undefined, bytes: number | undefined): string => `${key}/${crc32c}/${bytes}`;

export function checkWatchFeed(history: History): WatchFeedResult {
  const record = history.watch;
  const result: WatchFeedResult = { checked: false, changes: 0, resumes: 0, reachedTarget: true, duplicates: 0, outOfOrder: 0, missingPuts: 0, reorderedPuts: 0, examples: [] };
  if (record === undefined) return result;
  const example = (line: string): void => void (result.examples.length < EXAMPLES_MAX && result.examples.push(line));
  result.checked = true;
  result.changes = record.events.length;
  result.resumes = record.resumes;
  result.reachedTarget = record.targetIndex === undefined || record.progressIndex >= record.targetIndex;
  if (!result.reachedTarget) example(`the feed reached index ${record.progressIndex} of ${record.targetIndex}${record.error ? `: ${record.error}` : ''}`);
  const storedAt = scanFeed(record.events, result, example);
  if (result.reachedTarget) checkPuts(history.operations, storedAt, result, example);
  return result;
}

/** Duplicates and order; returns the index of each stored value. */
function scanFeed(events: WatchedChange[], result: WatchFeedResult, example: (line: string) => void): Map<string, number> {
  const seen = new Set<string>();
  const storedAt = new Map<string, number>();
  let last = 0;
  for (const e of events) {
    if (e.index < last) {
      result.outOfOrder++;
      example(`index ${e.index} came after ${last}`);
    }
    last = Math.max(last, e.index);
    const id = `${e.index}/${e.type}/${e.ns}/${e.key}/${e.crc32c}`;
    if (seen.has(id)) {
      result.duplicates++;
      example(`${e.type} ${e.key} at ${e.index} delivered twice`);
    }
    seen.add(id);
    if (e.type !== 'stored') continue;
    const value = identity(e.key, e.crc32c, e.bytes);
    const before = storedAt.get(value);
    if (before !== undefined && before !== e.index) {
      result.duplicates++;
      example(`value ${value} stored at ${before} and again at ${e.index}`);
    }
    if (before === undefined) storedAt.set(value, e.index);
  }
  return storedAt;
}

/** Every acknowledged put is on the feed, and real-time order between them is log order. */
function checkPuts(operations: Operation[], storedAt: Map<string, number>, result: WatchFeedResult, example: (line: string) => void): void {
  const acked: { op: Operation; index: number }[] = [];
  for (const op of operations) {
    if (op.kind !== 'put' || op.outcome !== 'ok' || op.result !== 'stored' || op.value === undefined) continue;
    const index = storedAt.get(identity(op.key, op.value.crc32c, op.value.bytes));
    if (index === undefined) {
      result.missingPuts++;
      example(`acknowledged put #${op.id} of ${op.key} is not on the feed`);
    } else acked.push({ op, index });
  }
  // Sweep by invocation: the largest index among puts acknowledged before B was invoked must be below B's.
  const byCompletion = [...acked].sort((a, b) => a.op.completeMs! - b.op.completeMs!);
  const byInvocation = [...acked].sort((a, b) => a.op.invokeMs - b.op.invokeMs);
  let done = 0;
  let latest: { op: Operation; index: number } | undefined;
  for (const b of byInvocation) {
    while (done < byCompletion.length && byCompletion[done]!.op.completeMs! < b.op.invokeMs) {
      const a = byCompletion[done++]!;
      if (latest === undefined || a.index > latest.index) latest = a;
    }
    if (latest !== undefined && latest.index >= b.index) {
      result.reorderedPuts++;
      example(`put #${latest.op.id} (index ${latest.index}) was acknowledged before put #${b.op.id} (index ${b.index}) was invoked`);
    }
  }
}
