// `kvc status`: one row per member (id, address, role, term, commit, applied, lag, pages, bytes,
// pid, then the native addon and the memory tier: addon loaded, arena used/total, mlocked, NUMA
// nodes, hit ratio), as a table or as JSON {"leader": id, "members": [...]}, the JSON with each
// member's removal counters and capacity settings too. Below the table, one line with the stored
// bytes against the replicated budget and the pages evicted and expired (replicated counters, so
// the leader's stand for all), and one line per member whose addon is not loaded or whose arena
// is not pinned, saying why. --digest
// adds each member's state digest (a DIGEST column and whether they agree). With --watch it
// refreshes every interval until Ctrl-C (a redrawn table on a terminal, one JSON line per refresh
// otherwise).
import type { Command } from 'commander';
import { formatBytes } from '../../config/index.js';
import { CliError } from '../cli-error.js';
import { clientAccess } from '../connect.js';
import { gatherClusterView, type ClusterView, type MemberRow } from '../cluster-status.js';
import { addConnectionOptions, integerIn, type ConnectionOptions } from '../options.js';
import { printJson, printLine, renderTable, type Column } from '../output.js';
import { StopSignal, sleep } from '../stop-signal.js';

const DEFAULT_WATCH_INTERVAL_MS = 1_000;
const WATCH_INTERVAL_MS_MIN = 100;
const WATCH_INTERVAL_MS_MAX = 60_000;
/** Moves the cursor home and clears the screen, so a watched table redraws in place. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/** Hex digits of a digest shown in the table: enough to tell digests apart at a glance. */
const DIGEST_SHOWN_CHARS = 12;

interface StatusOptions extends ConnectionOptions {
  watch?: boolean;
  intervalMs: number;
  digest?: boolean;
}

export function registerStatus(program: Command): void {
  addConnectionOptions(program.command('status').description('show every member: role, term, indexes, lag, pages, bytes, native addon, memory tier'))
    .option('--watch', 'refresh until Ctrl-C')
    .option('--interval-ms <ms>', 'refresh interval of --watch', integerIn(WATCH_INTERVAL_MS_MIN, WATCH_INTERVAL_MS_MAX), DEFAULT_WATCH_INTERVAL_MS)
    .option('--digest', "also each member's state digest (costly: each member reads its whole store)")
    .action(async (o: StatusOptions) => {
      if (o.watch) return watch(o);
      const view = await gatherClusterView(o.endpoints, await clientAccess(o), o.deadlineMs, o.digest === true);
      if (view.members.every((m) => m.role === 'unreachable')) {
        throw new CliError(`no member answered (${view.members.map((m) => m.error ?? m.address).join('; ')})`);
      }
      print(view, o.json === true, o.digest === true);
    });
}

async function watch(o: StatusOptions): Promise<void> {
  const stop = new StopSignal();
  const tty = process.stdout.isTTY === true && o.json !== true;
  try {
    while (!stop.triggered) {
      const view = await gatherClusterView(o.endpoints, await clientAccess(o), o.deadlineMs, o.digest === true);
      if (tty) process.stdout.write(`${CLEAR_SCREEN}kvc status  ${new Date().toISOString()}  (every ${o.intervalMs} ms, Ctrl-C to stop)\n\n`);
      print(view, o.json === true, o.digest === true);
      if (!tty && o.json !== true) printLine();
      await sleep(o.intervalMs, stop.signal);
    }
  } finally {
    stop.dispose();
  }
}

function print(view: ClusterView, json: boolean, digest: boolean): void {
  if (json) {
    printJson({ leader: view.leader, members: view.members });
    return;
  }
  printLine(renderTable(digest ? [...COLUMNS, { header: 'DIGEST' }] : COLUMNS, view.members.map((m) => row(m, view.leader, digest))));
  for (const m of view.members) if (m.error) printLine(`  ${m.address}: ${m.error}`);
  const budget = budgetLine(view);
  if (budget !== undefined) printLine(budget);
  if (digest) printLine(digestLine(view.members));
  for (const line of notes(view.members)) printLine(line);
  if (view.leader === null) printLine('no leader');
}

const right = 'right' as const;
const COLUMNS: readonly Column[] = [
  { header: 'ID', align: right },
  { header: 'ADDRESS' },
  { header: 'ROLE' },
  { header: 'TERM', align: right },
  { header: 'COMMIT', align: right },
  { header: 'APPLIED', align: right },
  { header: 'LAG', align: right },
  { header: 'PAGES', align: right },
  { header: 'BYTES', align: right },
  { header: 'PID', align: right },
  { header: 'NATIVE' },
  { header: 'ARENA', align: right },
  { header: 'MLOCK' },
  { header: 'NUMA' },
  { header: 'HIT%', align: right },
];

function row(m: MemberRow, leader: number | null, digest: boolean): string[] {
  const cell = (value: number | null, format: (n: number) => string = String): string => (value === null ? '-' : format(value));
  return [
    (m.id === leader ? '*' : '') + cell(m.id),
    m.address,
    m.role,
    cell(m.term),
    cell(m.commitIndex),
    cell(m.appliedIndex),
    cell(m.lag),
    cell(m.pages),
    cell(m.bytes, formatBytes),
    cell(m.pid),
    yesNo(m.native),
    arena(m),
    m.arenaBytes === 0 ? '-' : yesNo(m.mlocked),
    numa(m),
    m.arenaBytes === 0 ? '-' : cell(m.hitRatio, (ratio) => `${(ratio * 100).toFixed(1)}%`),
    ...(digest ? [m.digest === null ? '-' : m.digest.slice(0, DIGEST_SHOWN_CHARS)] : []),
  ];
}

/**
 * The stored bytes against the replicated budget and its watermarks, and the removal counters,
 * from the leader's row (it is the one that proposes evictions), else from any member's.
 */
function budgetLine(view: ClusterView): string | undefined {
  const source = view.members.find((m) => m.id === view.leader && m.settings !== null) ?? view.members.find((m) => m.settings !== null);
  const settings = source?.settings;
  if (!source || !settings || source.bytes === null) return undefined;
  const used = settings.budgetBytes === 0 ? 0 : (source.bytes / settings.budgetBytes) * 100;
  const watermarks = `evicts past ${Math.round(settings.highWatermark * 100)}% down to ${Math.round(settings.lowWatermark * 100)}%`;
  const replicated = settings.replicated ? '' : ' (built-in defaults: not replicated yet)';
  const removed = `evicted ${source.evictedPages ?? 0} pages (${formatBytes(source.evictedBytes ?? 0)}), expired ${source.expiredPages ?? 0}`;
  return `budget: ${formatBytes(source.bytes)} of ${formatBytes(settings.budgetBytes)} (${used.toFixed(1)}%), ${watermarks}; ${removed}${replicated}`;
}

/** Whether the members that sent a digest hold the same state. */
function digestLine(members: MemberRow[]): string {
  const digests = members.filter((m) => m.digest !== null);
  if (digests.length === 0) return 'digests: none answered';
  const distinct = new Set(digests.map((m) => m.digest)).size;
  if (distinct === 1) return `digests: all ${digests.length} equal`;
  return `digests: ${distinct} different among ${digests.length} members (a lagging member differs until it applies the same log)`;
}

function yesNo(value: boolean | null): string {
  return value === null ? '-' : value ? 'yes' : 'no';
}

/** "used/total" of the arena, "off" when the member runs without a memory tier. */
function arena(m: MemberRow): string {
  if (m.arenaBytes === null || m.arenaUsedBytes === null) return '-';
  if (m.arenaBytes === 0) return 'off';
  return `${formatBytes(m.arenaUsedBytes)}/${formatBytes(m.arenaBytes)}`;
}

/** The arena's NUMA nodes ("0", "0,1"; "?" for a region on no known node). */
function numa(m: MemberRow): string {
  if (m.numaNodes === null || m.arenaBytes === 0) return '-';
  return [...new Set(m.numaNodes.map((node) => (node >= 0 ? String(node) : '?')))].join(',');
}

/** Why a member runs without the addon, with an arena that is not pinned, or with test-only switches (one line each). */
function notes(members: MemberRow[]): string[] {
  const lines: string[] = [];
  for (const m of members) {
    const who = `  member ${m.id ?? m.address}`;
    if (m.native === false) lines.push(`${who}: native addon not loaded: ${m.nativeReason || 'no reason given'}`);
    // Without the addon the arena is plain memory, which the line above already implies.
    if (m.arenaNote && m.native !== false) lines.push(`${who}: arena: ${m.arenaNote}`);
    if (m.unsafeTestSwitches !== null && m.unsafeTestSwitches.length > 0) {
      lines.push(`${who}: WARNING: runs with TEST-ONLY fault switches, not fit for real data: ${m.unsafeTestSwitches.join(', ')}`);
    }
  }
  return lines;
}
