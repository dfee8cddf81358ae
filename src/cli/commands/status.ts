// `kvc status`: every member's status (cluster-status.ts) printed once, as tables for people or as
// JSON (status-print.ts says what they show). --digest adds each member's state digest and page-set
// digest. With --watch it redraws every --interval seconds until Ctrl-C/SIGTERM or --count
// frames, adding rates from two scrapes of each member's /metrics (status-watch.ts).
import { InvalidArgumentError, type Command } from 'commander';
import { CliError, EXIT_USAGE } from '../cli-error.js';
import { clientAccess } from '../connect.js';
import { gatherClusterView } from '../cluster-status.js';
import { addConnectionOptions, integerIn } from '../options.js';
import { printStatus } from '../status-print.js';
import type { WatchOptions } from '../status-watch.js';

const DEFAULT_WATCH_INTERVAL_S = 1;
const WATCH_INTERVAL_S_MIN = 0.1;
const WATCH_INTERVAL_S_MAX = 60;
const WATCH_FRAMES_MAX = 1_000_000;

export interface StatusOptions extends WatchOptions {
  watch?: boolean;
}

function parseIntervalS(text: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds < WATCH_INTERVAL_S_MIN || seconds > WATCH_INTERVAL_S_MAX) {
    throw new InvalidArgumentError(`expected seconds from ${WATCH_INTERVAL_S_MIN} to ${WATCH_INTERVAL_S_MAX} (e.g. 2 or 0.5), got "${text}"`);
  }
  return seconds;
}

export function registerStatus(program: Command): void {
  addConnectionOptions(program.command('status').description('show every member: role, term, indexes, lag, pages, bytes, native addon, memory tier, watch feed, shared memory'))
    .option('--watch', "redraw every --interval seconds with each member's rates (puts/s, gets/s, MB/s in and out, lookup hit ratio) until Ctrl-C")
    .option('--interval <s>', 'seconds between two frames of --watch (the window of its rates)', parseIntervalS, DEFAULT_WATCH_INTERVAL_S)
    .option('--count <n>', '--watch stops by itself after n frames', integerIn(1, WATCH_FRAMES_MAX))
    .option('--digest', "also each member's state digest (costly: each member reads its whole store)")
    .action(async (o: StatusOptions) => {
      if (o.watch) return (await import('../status-watch.js')).watchStatus(o);
      if (o.count !== undefined) throw new CliError('--count counts the frames of --watch: give --watch too', EXIT_USAGE);
      const view = await gatherClusterView(o.endpoints, await clientAccess(o), o.deadlineMs, o.digest === true);
      if (view.members.every((m) => m.role === 'unreachable')) {
        throw new CliError(`no member answered (${view.members.map((m) => m.error ?? m.address).join('; ')})`);
      }
      printStatus(view, o.json === true, o.digest === true);
    });
}
