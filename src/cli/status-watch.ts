// `kvc status --watch`: the status of every member redrawn every --interval seconds, with each
// member's rates over the last interval from two scrapes of its /metrics (member-rates.ts): pages
// put and read per second, payload MB/s in and out, lookup hit ratio. It scrapes once before the
// first frame, so every frame has rates. Bounded: it stops on Ctrl-C/SIGTERM, or by itself after
// --count frames (scripts, tests). On a terminal each frame replaces the last; otherwise frames
// follow each other, and with --json each frame is one JSON line: {"time", "intervalS", "leader",
// "members": [status row + "rates": {...} | null, "ratesNote"]}. A member without a metrics
// listener (config members[].metricsAddress) or whose scrape fails has no rates, and says why.
import { clientAccess } from './connect.js';
import { gatherClusterView, type ClusterView, type MemberRow } from './cluster-status.js';
import { ratesBetween, scrapeCounters, type MemberCounters, type MemberRates } from './member-rates.js';
import type { ConnectionOptions } from './options.js';
import { printJson, printLine, renderTable, round, type Column } from './output.js';
import { printStatus } from './status-print.js';
import { StopSignal, sleep } from './stop-signal.js';

/** Moves the cursor home and clears the screen, so a frame redraws in place. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

/** One scrape of a member: its counters, or why there are none. */
type Scrape = { counters: MemberCounters } | { note: string };

/** The options of `kvc status` that --watch reads (commands/status.ts adds --watch itself to them). */
export interface WatchOptions extends ConnectionOptions {
  /** Seconds between two frames of --watch. */
  interval: number;
  /** Frames of --watch before it stops by itself; unbounded (until a signal) when absent. */
  count?: number;
  digest?: boolean;
}

export interface RatedMember extends MemberRow {
  rates: MemberRates | null;
  /** Why `rates` is null ('' when it is not). */
  ratesNote: string;
}

export async function watchStatus(o: WatchOptions): Promise<void> {
  const stop = new StopSignal();
  const tty = process.stdout.isTTY === true && o.json !== true;
  const access = await clientAccess(o);
  const view = (): Promise<ClusterView> => gatherClusterView(o.endpoints, access, o.deadlineMs, o.digest === true);
  try {
    let previous = await scrapeMembers((await view()).members);
    for (let frame = 1; o.count === undefined || frame <= o.count; frame++) {
      await sleep(o.interval * 1000, stop.signal);
      if (stop.triggered) break;
      const current = await view();
      const scrapes = await scrapeMembers(current.members);
      const members = current.members.map((m) => rated(m, previous.get(m.address), scrapes.get(m.address)));
      previous = scrapes;
      printFrame({ leader: current.leader, members }, o, tty);
    }
  } finally {
    stop.dispose();
  }
}

/** Each member's counters by address, scraped all at once. */
async function scrapeMembers(members: readonly MemberRow[]): Promise<Map<string, Scrape>> {
  const scrapes = await Promise.all(
    members.map(async (m): Promise<[string, Scrape]> => {
      if (m.role === 'unreachable') return [m.address, { note: 'unreachable' }];
      if (m.metricsUrl === null) return [m.address, { note: 'no metrics listener (members[].metricsAddress)' }];
      try {
        return [m.address, { counters: await scrapeCounters(m.metricsUrl) }];
      } catch (error) {
        return [m.address, { note: `scrape failed: ${(error as Error).message}` }];
      }
    }),
  );
  return new Map(scrapes);
}

function rated(m: MemberRow, before: Scrape | undefined, after: Scrape | undefined): RatedMember {
  if (after === undefined || 'note' in after) return { ...m, rates: null, ratesNote: after?.note ?? 'not scraped' };
  if (before === undefined || 'note' in before) return { ...m, rates: null, ratesNote: 'first scrape: rates from the next frame on' };
  return { ...m, rates: ratesBetween(before.counters, after.counters), ratesNote: '' };
}

function printFrame(view: { leader: number | null; members: RatedMember[] }, o: WatchOptions, tty: boolean): void {
  if (o.json === true) {
    printJson({ time: new Date().toISOString(), intervalS: o.interval, leader: view.leader, members: view.members });
    return;
  }
  const stopHint = o.count === undefined ? 'Ctrl-C to stop' : `${o.count} frames`;
  if (tty) process.stdout.write(CLEAR_SCREEN);
  printLine(`kvc status  ${new Date().toISOString()}  (every ${o.interval} s, ${stopHint})`);
  printLine();
  printStatus(view, false, o.digest === true);
  printLine();
  printLine(renderTable(RATE_COLUMNS, view.members.map(rateRow)));
  for (const m of view.members) if (m.rates === null && m.role !== 'unreachable') printLine(`  member ${m.id ?? m.address}: no rates: ${m.ratesNote}`);
  if (!tty) printLine();
}

const right = 'right' as const;
const RATE_COLUMNS: readonly Column[] = [
  { header: 'ID', align: right },
  { header: 'PUTS/S', align: right },
  { header: 'GETS/S', align: right },
  { header: 'MB/S IN', align: right },
  { header: 'MB/S OUT', align: right },
  { header: 'LOOKUP HIT%', align: right },
];

function rateRow(m: RatedMember): string[] {
  const id = m.id === null ? m.address : String(m.id);
  const r = m.rates;
  if (r === null) return [id, '-', '-', '-', '-', '-'];
  const ratio = r.lookupHitRatio === null ? '-' : `${(r.lookupHitRatio * 100).toFixed(1)}%`;
  return [id, String(round(r.putsPerSec, 1)), String(round(r.getsPerSec, 1)), String(round(r.mbInPerSec, 2)), String(round(r.mbOutPerSec, 2)), ratio];
}
