// What `kvc status` prints, once or in each frame of --watch: one row per member (id, address,
// role, term, commit, applied, lag, pages, bytes, pid, then the native addon and the memory tier:
// addon loaded, arena used/total, mlocked, NUMA nodes, hit ratio), as a table or as JSON
// {"leader": id, "members": [...]}, the JSON with each member's removal counters and capacity
// settings too. Below the table, one line with the stored bytes against the replicated budget and
// the pages evicted and expired (replicated counters, so the leader's stand for all), and one line
// per member whose addon is not loaded or whose arena is not pinned, saying why; then a second
// table with each member's Watch feed (the oldest index a watch may start from, the events and
// bytes of its ring, open watches) and, where the arena is in shared-memory files, their count and
// the same-host leases. With a digest, each member's state digest and page-set digest (DIGEST and
// PAGES DIGEST columns, and whether they agree). A module of its own so that commands/status.ts
// and status-watch.ts both import it and not each other.
import { formatBytes } from '../config/index.js';
import type { ClusterView, MemberRow } from './cluster-status.js';
import { printJson, printLine, renderTable, type Column } from './output.js';

/** Hex digits of a digest shown in the table: enough to tell digests apart at a glance. */
const DIGEST_SHOWN_CHARS = 12;

/** The status as one JSON line, or as the tables and lines for people. */
export function printStatus(view: ClusterView, json: boolean, digest: boolean): void {
  if (json) {
    printJson({ leader: view.leader, members: view.members });
    return;
  }
  const digestColumns: Column[] = digest ? [{ header: 'DIGEST' }, { header: 'PAGES DIGEST' }] : [];
  printLine(renderTable([...COLUMNS, ...digestColumns], view.members.map((m) => row(m, view.leader, digest))));
  for (const m of view.members) if (m.error) printLine(`  ${m.address}: ${m.error}`);
  const budget = budgetLine(view);
  if (budget !== undefined) printLine(budget);
  if (digest) printLine(digestLine(view.members));
  for (const line of notes(view.members)) printLine(line);
  if (view.leader === null) printLine('no leader');
  const answered = view.members.filter((m) => m.role !== 'unreachable');
  if (answered.length > 0) {
    printLine();
    printLine(renderTable(FEED_COLUMNS, answered.map(feedRow)));
  }
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
    ...(digest ? [shortDigest(m.digest), m.pagesDigest === null ? '-' : `${shortDigest(m.pagesDigest)}@${m.pagesDigestIndex}`] : []),
  ];
}

function shortDigest(digest: string | null): string {
  return digest === null ? '-' : digest.slice(0, DIGEST_SHOWN_CHARS);
}

const FEED_COLUMNS: readonly Column[] = [
  { header: 'ID', align: right },
  { header: 'WATCH FROM', align: right },
  { header: 'RING EVENTS', align: right },
  { header: 'RING BYTES', align: right },
  { header: 'WATCHERS', align: right },
  { header: 'SHM FILES', align: right },
  { header: 'SHM BYTES', align: right },
  { header: 'LEASES', align: right },
  { header: 'GRANTED', align: right },
  { header: 'EXPIRED', align: right },
  { header: 'STREAMED (FULL)', align: right },
];

/** The Watch feed and the shared-memory files and leases of one member that answered. */
function feedRow(m: MemberRow): string[] {
  const w = m.watch;
  const s = m.sharedMemory;
  const feed = w === null ? ['-', '-', '-', '-'] : [String(w.oldestIndex), String(w.events), formatBytes(w.bytes), String(w.watchers)];
  const shm =
    s === null
      ? ['off', '-', '-', '-', '-', '-']
      : [
          String(s.files.length),
          formatBytes(s.files.reduce((sum, f) => sum + f.fileBytes, 0)),
          `${s.leasesHeld}/${s.leasesMax}`,
          String(s.leasesGranted),
          String(s.leasesExpired),
          String(s.streamedLeasesFull),
        ];
  return [m.id === null ? '-' : String(m.id), ...feed, ...shm];
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

/**
 * Why a member runs without the addon, with an arena that is not pinned, with its files through
 * the page cache, without the value log, or with test-only switches (one line each).
 */
function notes(members: MemberRow[]): string[] {
  const lines: string[] = [];
  for (const m of members) {
    const who = `  member ${m.id ?? m.address}`;
    if (m.native === false) lines.push(`${who}: native addon not loaded: ${m.nativeReason || 'no reason given'}`);
    // Without the addon the arena is plain memory, which the line above already implies.
    if (m.arenaNote && m.native !== false) lines.push(`${who}: arena: ${m.arenaNote}`);
    if (m.directIo === false) lines.push(`${who}: blob payloads read through the page cache (no direct I/O): ${m.directIoReason || 'no reason given'}`);
    if (m.appendsReason !== null) lines.push(`${who}: WAL and blob appends '${m.appends ?? 'unknown'}': ${m.appendsReason}`);
    if (m.valueLogOff !== null) lines.push(`${who}: value log ${m.valueLogOff}`);
    if (m.unsafeTestSwitches !== null && m.unsafeTestSwitches.length > 0) {
      lines.push(`${who}: WARNING: runs with TEST-ONLY fault switches, not fit for real data: ${m.unsafeTestSwitches.join(', ')}`);
    }
  }
  return lines;
}
