// `kvc removals`: the replicated record of removed pages (evicted, expired, deleted, dropped with
// their namespace), oldest first, from one member. It tells an evicted page from a lost one, for
// operators and for the chaos checker. One page of the record by default; --all reads it all.
import type { Command } from 'commander';
import type { RemovalList } from '../../client/index.js';
import { LIMITS } from '../../limits.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, parseEndpoint, type ConnectionOptions } from '../options.js';
import { printJson, printLine, renderTable, toHex } from '../output.js';

/** Removals shown by default: a screenful or two; --limit or --all for more. */
const DEFAULT_LIMIT = 100;

interface RemovalsOptions extends ConnectionOptions {
  from: number;
  limit: number;
  all?: boolean;
  endpoint?: string;
}

export function registerRemovals(program: Command): void {
  addConnectionOptions(program.command('removals').description('list removed pages (evicted, expired, deleted, dropped), oldest first'))
    .option('--from <index>', 'first log index to list (0 = the oldest kept)', integerIn(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--limit <n>', 'most removals to list', integerIn(1, LIMITS.eviction.removalsPerCallMax), DEFAULT_LIMIT)
    .option('--all', 'list every removal from --from on (ignores --limit)')
    .option('--endpoint <host:port>', 'ask this member only', parseEndpoint)
    .action(async (o: RemovalsOptions) => {
      const endpoint = o.endpoint === undefined ? {} : { endpoint: o.endpoint };
      const list = await withClient(o, (client) =>
        o.all === true ? client.listAllRemovals({ fromIndex: o.from, ...endpoint }) : client.listRemovals({ fromIndex: o.from, limit: o.limit, ...endpoint }),
      );
      print(list, o.json === true);
    });
}

function print(list: RemovalList, json: boolean): void {
  const removals = list.removals.map((r) => ({ index: r.index, namespace: r.namespace, key: toHex(r.key), reason: r.reason }));
  if (json) return printJson({ ...list, removals });
  if (removals.length > 0) {
    const rows = removals.map((r) => [String(r.index), r.namespace, r.key === '' ? '*' : r.key, r.reason]);
    printLine(renderTable([{ header: 'INDEX', align: 'right' }, { header: 'NAMESPACE' }, { header: 'KEY' }, { header: 'REASON' }], rows));
  }
  printLine(`${removals.length} removal(s) from member ${list.endpoint}; oldest kept index ${list.oldestIndex}, applied index ${list.appliedIndex}`);
  const last = removals.at(-1);
  // One log entry may remove many pages, so resuming at its index repeats the ones shown.
  if (list.more && last) printLine(`more follow: --from ${last.index} resumes (repeating index ${last.index}'s first entries), --all lists them all`);
}
