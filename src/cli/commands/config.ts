// `kvc config get` and `kvc config set KEY VALUE`: the replicated capacity settings (admin.proto
// ClusterSettings). They are cluster state, the same on every member that applied the same log:
// `get` asks any member (or --endpoint), `set` goes to the leader, which checks the value
// (KVC_INVALID_CONFIG for a bad key or value) and answers once the change is applied.
import type { Command } from 'commander';
import type { ClusterSettings } from '../../client/index.js';
import { formatBytes } from '../../config/index.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, parseEndpoint, type ConnectionOptions } from '../options.js';
import { printJson, printLine, renderTable } from '../output.js';

interface GetOptions extends ConnectionOptions {
  endpoint?: string;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('the replicated capacity settings');
  addConnectionOptions(config.command('get').description('show the capacity settings a member enforces'))
    .option('--endpoint <host:port>', 'ask this member only', parseEndpoint)
    .action(async (o: GetOptions) => {
      const settings = await withClient(o, (client) => client.getSettings(o.endpoint));
      print(settings, o.json === true);
    });
  addConnectionOptions(
    config
      .command('set')
      .description('change one setting: budgetBytes (e.g. 64GiB), highWatermark, lowWatermark (fractions), evictionGraceMs, defaultTtlMs'),
  )
    .argument('<key>', 'budgetBytes, highWatermark, lowWatermark, evictionGraceMs or defaultTtlMs')
    .argument('<value>', 'the new value, checked by the leader')
    .action(async (key: string, value: string, o: ConnectionOptions) => {
      const settings = await withClient(o, (client) => client.setConfig(key, value));
      if (o.json !== true) printLine(`${key} set to ${value}`);
      print(settings, o.json === true);
    });
}

function print(settings: ClusterSettings, json: boolean): void {
  if (json) return printJson(settings);
  const rows = [
    ['budgetBytes', `${formatBytes(settings.budgetBytes)} (${settings.budgetBytes})`],
    ['highWatermark', `${settings.highWatermark} (evict past ${formatBytes(settings.budgetBytes * settings.highWatermark)})`],
    ['lowWatermark', `${settings.lowWatermark} (down to ${formatBytes(settings.budgetBytes * settings.lowWatermark)})`],
    ['evictionGraceMs', String(settings.evictionGraceMs)],
    ['defaultTtlMs', settings.defaultTtlMs === 0 ? '0 (none)' : String(settings.defaultTtlMs)],
    ['replicated', settings.replicated ? 'yes' : 'no (built-in defaults until the first leader replicates its config)'],
  ];
  printLine(renderTable([{ header: 'SETTING' }, { header: 'VALUE' }], rows));
}
