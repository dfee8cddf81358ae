// Helpers every checker shares: how a page's identity is compared, how operations are grouped
// per key, and the shape checks on records the workload wrote. A malformed record (an `ok` put
// without its value, a `found` get without the bytes' identity) is a bug in the harness, not a
// finding about the cluster, so it fails an assertion instead of being counted as a fault.
import assert from 'node:assert/strict';
import type { Operation, PageValue } from '../history.js';

/** How many examples a result keeps for the report; counts are always complete. */
export const EXAMPLES_MAX = 10;

/** True when two page identities name the same bytes (same crc32c and length). */
export function sameValue(a: PageValue | null | undefined, b: PageValue | null | undefined): boolean {
  const aAbsent = a === null || a === undefined;
  const bAbsent = b === null || b === undefined;
  if (aAbsent || bAbsent) return aAbsent && bAbsent;
  return a.crc32c === b.crc32c && a.bytes === b.bytes;
}

/** A page identity as a string, usable as a Map key. */
export function valueId(value: PageValue): string {
  return `${value.crc32c >>> 0}:${value.bytes}`;
}

/** A key's bytes as the history and the finals name it (lowercase hex). */
export { hex } from '../../codec/index.js';

/** A key's identity across namespaces, usable as a Map key. */
export function keyId(op: Pick<Operation, 'ns' | 'key'>): string {
  return `${op.ns}\u0000${op.key}`;
}

/**
 * When an operation's effect is known to have happened by, for ordering arguments. An `unknown`
 * operation may take effect at any time after its invocation, so it never certainly completed;
 * an `ok` operation without a completion time (a harness that lost it) is treated the same way,
 * which can only excuse more, never accuse more.
 */
export function completedByMs(op: Operation): number {
  if (op.outcome === 'unknown') return Number.POSITIVE_INFINITY;
  return op.completeMs ?? Number.POSITIVE_INFINITY;
}

/** The largest of `values`, or `empty` when there are none (no spread: histories can be long). */
export function maxOf(values: Iterable<number>, empty = Number.NEGATIVE_INFINITY): number {
  let max = empty;
  for (const value of values) if (value > max) max = value;
  return max;
}

/** The smallest of `values`, or `empty` when there are none. */
export function minOf(values: Iterable<number>, empty = Number.POSITIVE_INFINITY): number {
  let min = empty;
  for (const value of values) if (value < min) min = value;
  return min;
}

/** Groups operations by namespace and key, keeping each group in the history's order. */
export function groupByKey(operations: readonly Operation[]): Map<string, Operation[]> {
  const groups = new Map<string, Operation[]>();
  for (const op of operations) {
    const id = keyId(op);
    let group = groups.get(id);
    if (group === undefined) {
      group = [];
      groups.set(id, group);
    }
    group.push(op);
  }
  return groups;
}

/** The results an `ok` operation of each kind may carry. */
const RESULTS_BY_KIND: Record<Operation['kind'], readonly string[]> = {
  put: ['stored', 'exists-different'],
  delete: ['deleted'],
  lookup: ['present', 'absent'],
  get: ['absent', 'found'],
};

/** Asserts the fields a checker relies on; see the file comment for why this is an assertion. */
export function assertWellFormed(op: Operation): void {
  const where = `operation ${op.id} (${op.kind}, client ${op.client})`;
  assert.ok(Number.isFinite(op.invokeMs), `${where}: invokeMs must be a finite number`);
  if (op.completeMs !== undefined) {
    assert.ok(op.completeMs >= op.invokeMs, `${where}: completes (${op.completeMs}) before it is invoked (${op.invokeMs})`);
  }
  if (op.kind === 'put') assert.ok(op.value !== undefined, `${where}: a put must carry the value it writes`);
  if (op.outcome !== 'ok') return;
  assert.ok(
    op.result !== undefined && RESULTS_BY_KIND[op.kind].includes(op.result),
    `${where}: an ok ${op.kind} must have a result in [${RESULTS_BY_KIND[op.kind].join(', ')}], got ${op.result}`,
  );
  if (op.kind === 'get' && op.result === 'found') {
    assert.ok(op.read !== undefined, `${where}: a found get must carry the identity of the bytes it read`);
  }
}

/** A short human description of one operation, for witnesses and report lines. */
export function describeOperation(op: Operation): string {
  const span = `[${op.invokeMs.toFixed(1)}, ${op.completeMs === undefined ? '...' : op.completeMs.toFixed(1)}] ms`;
  const value = op.value === undefined ? '' : ` ${valueId(op.value)}`;
  const answer = op.outcome === 'ok' ? ` -> ${op.result}${op.read === undefined ? '' : ` ${valueId(op.read)}`}` : ` -> ${op.outcome}`;
  return `#${op.id} c${op.client} ${op.kind}${value}${answer} ${span}`;
}
