// `kvc status`: one row per member (id, address, role, term, commit, applied, lag, pages, bytes,
// pid, then the native addon and the memory tier: addon loaded, arena used/total, mlocked, NUMA
// nodes, hit ratio), as a table or as JSON {"leader": id, "members": [...]}. Below the table, one
// line per member whose addon is not loaded or whose arena is not pinned, saying why. With
// --watch it refreshes every interval until Ctrl-C (a redrawn table on a terminal, one JSON line
// per refresh otherwise).
import type { Command } from 'commander';
import { formatBytes } from '../../config/index.js';
import { CliError } from '../cli-error.js';
import { gatherClusterView, type ClusterView, type MemberRow } from '../cluster-status.js';
import { addConnectionOptions, integerIn, type ConnectionOptions } from '../options.js';
import { printJson, printLine, renderTable } from '../output.js';
import { StopSignal, sleep } from '../stop-signal.js';

const DEFAULT_WATCH_INTERVAL_MS = 1_000;
const WATCH_INTERVAL_MS_MIN = 100;
const WATCH_INTERVAL_MS_MAX = 60_000;
/** Moves the cursor home and clears the screen, so a watched table redraws in place. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

interface StatusOptions extends ConnectionOptions {
  watch?: boolean;
  intervalMs: number;
}

export function registerStatus(program: Command): void {
  addConnectionOptions(program.command('status').description('show every member: role, term, indexes, lag, pages, bytes, native addon, memory tier'))
    .option('--watch', 'refresh until Ctrl-C')
    .option('--interval-ms <ms>', 'refresh interval of --watch', integerIn(WATCH_INTERVAL_MS_MIN, WATCH_INTERVAL_MS_MAX), DEFAULT_WATCH_INTERVAL_MS)
    .action(async (o: StatusOptions) => {
      if (o.watch) return watch(o);
      const view = await gatherClusterView(o.endpoints, o.token, o.deadlineMs);
      if (view.members.every((m) => m.role === 'unreachable')) {
        throw new CliError(`no member answered (${view.members.map((m) => m.error ?? m.address).join('; ')})`);
      }
      print(view, o.json === true);
    });
}

async function watch(o: StatusOptions): Promise<void> {
  const stop = new StopSignal();
  const tty = process.stdout.isTTY === true && o.json !== true;
  try {
    while (!stop.triggered) {
      const view = await gatherClusterView(o.endpoints, o.token, o.deadlineMs);
      if (tty) process.stdout.write(`${CLEAR_SCREEN}kvc status  ${new Date().toISOString()}  (every ${o.intervalMs} ms, Ctrl-C to stop)\n\n`);
      print(view, o.json === true);
      if (!tty && o.json !== true) printLine();
      await sleep(o.intervalMs, stop.signal);
    }
  } finally {
    stop.dispose();
  }
}

function print(view: ClusterView, json: boolean): void {
  if (json) {
    printJson({ leader: view.leader, members: view.members });
    return;
  }
  const cell = (value: number | null, format: (n: number) => string = String): string => (value === null ? '-' : format(value));
  const rows = view.members.map((m: MemberRow) => [
    (m.id === view.leader ? '*' : '') + cell(m.id),
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
  ]);
  const right = 'right' as const;
  printLine(
    renderTable(
      [
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
      ],
      rows,
    ),
  );
  for (const m of view.members) if (m.error) printLine(`  ${m.address}: ${m.error}`);
  for (const line of notes(view.members)) printLine(line);
  if (view.leader === null) printLine('no leader');
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

/** Why a member runs without the addon, or with an arena that is not pinned (one line each). */
function notes(members: MemberRow[]): string[] {
  const lines: string[] = [];
  for (const m of members) {
    const who = `  member ${m.id ?? m.address}`;
    if (m.native === false) lines.push(`${who}: native addon not loaded: ${m.nativeReason || 'no reason given'}`);
    // Without the addon the arena is plain memory, which the line above already implies.
    if (m.arenaNote && m.native !== false) lines.push(`${who}: arena: ${m.arenaNote}`);
  }
  return lines;
}
