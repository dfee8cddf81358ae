// `kvc watch`: the cluster's page-set changes as they are applied, one line per event, until
// Ctrl-C (or --count changes): stored, removed (with its reason), namespace_dropped, and progress
// (the index every change up to which was printed). The client resumes across member failures
// from the last index printed + 1, so the lines are every change once, in log order. With
// --json each line is one object: type, index, and for page events namespace, key (hex), and
// reason for a removal.
import type { Command } from 'commander';
import type { WatchEvent } from '../../client/index.js';
import { openClient } from '../connect.js';
import { addConnectionOptions, integerIn, parseEndpoint, type ConnectionOptions } from '../options.js';
import { printJson, printLine, toHex } from '../output.js';
import { StopSignal } from '../stop-signal.js';

interface WatchCommandOptions extends ConnectionOptions {
  ns?: string;
  from: number;
  count?: number;
  progress: boolean;
  endpoint?: string;
}

export function registerWatch(program: Command): void {
  addConnectionOptions(program.command('watch').description('print page-set changes (stored, removed, namespace dropped) in log order as they happen'))
    .option('--ns <namespace>', 'only this namespace')
    .option('--from <index>', 'first log index (last seen + 1, or a listing\'s watch_from_index); 0 = from now', integerIn(0, Number.MAX_SAFE_INTEGER), 0)
    .option('--count <n>', 'stop after this many changes (progress lines do not count)', integerIn(1, Number.MAX_SAFE_INTEGER))
    .option('--no-progress', 'leave out progress lines')
    .option('--endpoint <host:port>', 'start at this member (it still fails over)', parseEndpoint)
    .action(async (o: WatchCommandOptions) => {
      const stop = new StopSignal();
      const client = await openClient(o);
      let changes = 0;
      try {
        const options = { fromIndex: o.from, signal: stop.signal, ...(o.ns === undefined ? {} : { namespace: o.ns }), ...(o.endpoint === undefined ? {} : { endpoint: o.endpoint }) };
        for await (const event of client.watch(options)) {
          if (event.type === 'progress' && !o.progress) continue;
          print(event, o.json === true);
          if (event.type !== 'progress' && ++changes === o.count) break;
        }
      } finally {
        stop.dispose();
        client.close();
      }
    });
}

function print(e: WatchEvent, json: boolean): void {
  if (json) {
    if (e.type === 'progress') return printJson({ type: e.type, index: e.index });
    const base = { type: e.type, index: e.index, namespace: e.namespace };
    if (e.type === 'namespace_dropped') return printJson(base);
    if (e.type === 'removed') return printJson({ ...base, key: toHex(e.key), reason: e.reason });
    return printJson({ ...base, key: toHex(e.key), parent_key: toHex(e.parentKey), bytes: e.bytes, tokens: e.tokens });
  }
  switch (e.type) {
    case 'progress':
      return printLine(`${e.index} progress (every change up to here printed)`);
    case 'stored':
      return printLine(`${e.index} stored ${e.namespace} ${toHex(e.key)} parent ${toHex(e.parentKey) || '-'} ${e.bytes} bytes ${e.tokens} tokens`);
    case 'removed':
      return printLine(`${e.index} removed ${e.namespace} ${toHex(e.key)} ${e.reason ?? ''}`.trimEnd());
    case 'namespace_dropped':
      return printLine(`${e.index} namespace_dropped ${e.namespace}`);
  }
}
