// What a run reports: the one JSON document of `kvc chaos --json` (summarize; its shape is in
// report-types.ts), the verdict table people read, and the report directory of `--report DIR`:
// history.jsonl (the whole history, one typed record per line, so the verdict can be re-checked
// later), verdict.json (the checkers' full result), and index.html (the timeline, report-html.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { History } from './history.js';
import { describeEvictions, describeSharedMemory, renderReportHtml } from './report-html.js';
import type { ChaosSummary, EvictionSummary } from './report-types.js';
import type { ChaosRunResult, Verdict } from './run.js';
import { describeKillWindows, killWindows, type KillWindow } from './unavailability.js';

export interface SummaryContext {
  clients: number;
  durationMs: number;
  reportDir?: string;
}

/** The run's JSON document. `ok` needs the checkers' ok and no incident. */
export function summarize(result: ChaosRunResult, context: SummaryContext): ChaosSummary {
  const { verdict, history } = result;
  const outcomes: Record<string, Record<string, number>> = {};
  for (const op of history.operations) {
    const byOutcome = (outcomes[op.kind] ??= {});
    byOutcome[op.outcome] = (byOutcome[op.outcome] ?? 0) + 1;
  }
  return {
    ok: verdict.ok && result.incidents.length === 0,
    seed: history.seed,
    operations: verdict.operations,
    acknowledgedPuts: verdict.acknowledgedPuts,
    lostPuts: verdict.lostPuts,
    corruptReads: verdict.corruptReads,
    linearizable: verdict.linearizable,
    leadersPerTermMax: verdict.leadersPerTermMax,
    converged: verdict.converged,
    faults: result.faults,
    recoverySecondsMax: round(verdict.recoverySecondsMax),
    nodes: history.nodes,
    clients: context.clients,
    durationSeconds: round(context.durationMs / 1000),
    elapsedSeconds: round(result.elapsedMs / 1000),
    outcomes,
    failures: verdict.failures,
    incidents: result.incidents,
    watch: verdict.details.watch.checked ? { changes: verdict.details.watch.changes, resumes: verdict.details.watch.resumes } : null,
    evictions: summarizeEvictions(history, verdict),
    killUnavailability: killWindows(history),
    sharedMemory: summarizeSharedMemory(history),
    ...(context.reportDir === undefined ? {} : { report: path.resolve(context.reportDir) }),
  };
}

function summarizeSharedMemory(history: History): ChaosSummary['sharedMemory'] {
  const gets = history.operations.filter((op) => op.kind === 'get' && op.transfer === 'shared-memory');
  return {
    gets: gets.filter((op) => op.outcome === 'ok').length,
    found: gets.filter((op) => op.result === 'found').length,
    copied: gets.filter((op) => op.result === 'found' && op.copied === true).length,
    copiesRefused: gets.filter((op) => op.copyRefused === true).length,
  };
}

function summarizeEvictions(history: History, verdict: Verdict): EvictionSummary | null {
  const evidence = history.removals;
  const durability = verdict.details.durability;
  const record = durability.removalRecord;
  if (evidence === undefined || record === undefined) return null;
  return {
    budgetBytes: history.budgetBytes ?? null,
    evictedPages: evidence.evictedPages,
    evictedBytes: evidence.evictedBytes,
    removalsSeen: { evicted: record.evictedEntries, expired: record.expiredEntries, deleted: record.deletedEntries },
    recordComplete: record.complete,
    acknowledgedEvicted: durability.evictedPages,
    acknowledgedUndecided: durability.trimmedPages,
    putsRefusedFull: history.operations.filter((op) => op.kind === 'put' && op.outcome === 'fail' && op.error === 'KVC_QUOTA_EXHAUSTED').length,
  };
}

/** The verdict as an aligned two-column table for people. */
export function renderVerdictTable(summary: ChaosSummary): string {
  const mark = (good: boolean): string => (good ? 'ok' : 'FAIL');
  const rows: [string, string, string][] = [
    ['verdict', summary.ok ? 'PASS' : 'FAIL', ''],
    ['operations', String(summary.operations), describeOutcomes(summary.outcomes)],
    ['acknowledged puts', String(summary.acknowledgedPuts), ''],
    ['lost puts', String(summary.lostPuts), mark(summary.lostPuts === 0)],
    ...(summary.evictions === null
      ? []
      : [['evicted pages', String(summary.evictions.evictedPages), describeEvictions(summary.evictions)] as [string, string, string]]),
    ['corrupt reads', String(summary.corruptReads), mark(summary.corruptReads === 0)],
    ['gets over shared memory', String(summary.sharedMemory.gets), describeSharedMemory(summary.sharedMemory)],
    ['linearizable', String(summary.linearizable), mark(summary.linearizable === true)],
    ['leaders per term (max)', String(summary.leadersPerTermMax), mark(summary.leadersPerTermMax <= 1)],
    ['converged', String(summary.converged), mark(summary.converged)],
    ['recovery (max)', `${summary.recoverySecondsMax} s`, ''],
    ...(summary.killUnavailability.length === 0 ? [] : [killRow(summary.killUnavailability)]),
    ['faults', String(Object.values(summary.faults).reduce((sum, n) => sum + n, 0)), Object.entries(summary.faults).map(([name, n]) => `${name} ${n}`).join(', ')],
    ['incidents', String(summary.incidents.length), mark(summary.incidents.length === 0)],
  ];
  const width = Math.max(...rows.map(([label]) => label.length));
  const valueWidth = Math.max(...rows.map(([, value]) => value.length));
  const lines = rows.map(([label, value, note]) => `${label.padEnd(width)}  ${value.padEnd(valueWidth)}  ${note}`.trimEnd());
  for (const incident of summary.incidents) lines.push(`  incident: ${incident.split('\n')[0]}`);
  return lines.join('\n');
}

/** The longest window after a kill, with every window in the note. */
function killRow(windows: readonly KillWindow[]): [string, string, string] {
  const longestMs = Math.max(...windows.map((w) => w.unavailableMs ?? 0));
  return ['unavailable after kill (max)', `${(longestMs / 1000).toFixed(2)} s`, describeKillWindows(windows)];
}

function describeOutcomes(outcomes: ChaosSummary['outcomes']): string {
  return Object.entries(outcomes)
    .map(([kind, byOutcome]) => `${kind} ${Object.entries(byOutcome).map(([outcome, n]) => `${n} ${outcome}`).join('/')}`)
    .join(', ');
}

/** Writes history.jsonl, verdict.json and index.html into `dir`. */
export async function writeReport(dir: string, history: History, summary: ChaosSummary, verdict: Verdict): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'history.jsonl'), historyJsonLines(history));
  await writeFile(path.join(dir, 'verdict.json'), `${JSON.stringify({ summary, verdict }, null, 2)}\n`);
  await writeFile(path.join(dir, 'index.html'), renderReportHtml(history, summary, verdict));
}

/**
 * The history as JSON Lines: a `run` record first (seed, nodes, startedMs, budgetBytes), then one
 * record per operation, fault, leader observation and member final state, and the removal record
 * last (one line), each tagged with its `type`.
 */
export function historyJsonLines(history: History): string {
  const run = { type: 'run', seed: history.seed, nodes: history.nodes, startedMs: history.startedMs, budgetBytes: history.budgetBytes };
  const lines = [JSON.stringify(run)];
  for (const op of history.operations) lines.push(JSON.stringify({ type: 'op', ...op }));
  for (const fault of history.faults) lines.push(JSON.stringify({ type: 'fault', ...fault }));
  for (const leader of history.leaders) lines.push(JSON.stringify({ type: 'leader', ...leader }));
  for (const final of history.finals) lines.push(JSON.stringify({ type: 'final', ...final }));
  if (history.removals !== undefined) lines.push(JSON.stringify({ type: 'removals', ...history.removals }));
  if (history.watch !== undefined) lines.push(JSON.stringify({ type: 'watch', ...history.watch }));
  return `${lines.join('\n')}\n`;
}

/** Reads history.jsonl back into a History (for re-checking a run). */
export function parseHistoryJsonLines(text: string): History {
  const history: History = { seed: 0, nodes: 0, startedMs: 0, operations: [], finals: [], leaders: [], faults: [] };
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const { type, ...record } = JSON.parse(line) as { type: string } & Record<string, unknown>;
    if (type === 'run') Object.assign(history, record);
    else if (type === 'op') history.operations.push(record as unknown as History['operations'][number]);
    else if (type === 'fault') history.faults.push(record as unknown as History['faults'][number]);
    else if (type === 'leader') history.leaders.push(record as unknown as History['leaders'][number]);
    else if (type === 'final') history.finals.push(record as unknown as History['finals'][number]);
    else if (type === 'removals') history.removals = record as unknown as NonNullable<History['removals']>;
    else if (type === 'watch') history.watch = record as unknown as NonNullable<History['watch']>;
    else throw new Error(`history.jsonl: unknown record type ${JSON.stringify(type)}`);
  }
  return history;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
