// `kvc ns list`, `kvc ns set-quota`, `kvc ns set-ttl`, `kvc ns drop`: namespaces and their
// replicated settings. The figures of `list` come from one member (any, or --endpoint): pages,
// bytes and the removal counters are replicated state, but the lookup counters are that member's
// own since it started, which the output says.
import type { Command } from 'commander';
import type { NamespaceList, NamespaceStatus } from '../../client/index.js';
import { formatBytes } from '../../config/index.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, parseEndpoint, parseSize, type ConnectionOptions } from '../options.js';
import { printJson, printLine, printOutcome, renderTable } from '../output.js';

/** The longest default TTL a namespace takes (admin.proto SetNamespaceConfigRequest: 365 days). */
const TTL_MS_MAX = 365 * 24 * 3600 * 1000;

interface ListOptions extends ConnectionOptions {
  endpoint?: string;
}

export function registerNamespaces(program: Command): void {
  const ns = program.command('ns').description('namespaces');
  addConnectionOptions(ns.command('list').description('every namespace: pages, bytes, quota, default TTL, removals, lookup hit ratio'))
    .option('--endpoint <host:port>', 'ask this member only', parseEndpoint)
    .action(async (o: ListOptions) => {
      const list = await withClient(o, (client) => client.listNamespaces(o.endpoint));
      print(list, o.json === true);
    });
  addConnectionOptions(ns.command('set-quota').description('limit the bytes of a namespace (0 = no quota)'))
    .argument('<namespace>', 'namespace')
    .argument('<size>', 'most payload bytes, e.g. 64MiB or 0', parseSize)
    .action(async (namespace: string, quotaBytes: number, o: ConnectionOptions) => {
      await withClient(o, (client) => client.setNamespaceConfig(namespace, 'quotaBytes', String(quotaBytes)));
      const human = quotaBytes === 0 ? `namespace ${namespace}: no quota` : `namespace ${namespace}: quota ${formatBytes(quotaBytes)}`;
      printOutcome(o.json, { namespace, quotaBytes }, human);
    });
  addConnectionOptions(ns.command('set-ttl').description("set the TTL of the namespace's pages that carry none of their own, counted from their creation (0 = the cluster's default)"))
    .argument('<namespace>', 'namespace')
    .argument('<ms>', 'time to live in ms', integerIn(0, TTL_MS_MAX))
    .action(async (namespace: string, defaultTtlMs: number, o: ConnectionOptions) => {
      await withClient(o, (client) => client.setNamespaceConfig(namespace, 'defaultTtlMs', String(defaultTtlMs)));
      const human = `namespace ${namespace}: default TTL ${defaultTtlMs === 0 ? "the cluster's" : `${defaultTtlMs} ms`}`;
      printOutcome(o.json, { namespace, defaultTtlMs }, human);
    });
  addConnectionOptions(ns.command('drop').description('delete every page of a namespace'))
    .argument('<namespace>', 'namespace to drop')
    .action(async (namespace: string, o: ConnectionOptions) => {
      await withClient(o, (client) => client.dropNamespace(namespace));
      printOutcome(o.json, { dropped: namespace }, `dropped namespace ${namespace}`);
    });
}

/** lookupHits / lookupKeys; null before the member served a lookup in the namespace. */
function hitRatio(n: NamespaceStatus): number | null {
  return n.lookupKeys === 0 ? null : n.lookupHits / n.lookupKeys;
}

function print(list: NamespaceList, json: boolean): void {
  if (json) {
    printJson({ ...list, namespaces: list.namespaces.map((n) => ({ ...n, lookupHitRatio: hitRatio(n) })) });
    return;
  }
  const rows = list.namespaces.map((n) => {
    const ratio = hitRatio(n);
    return [
      n.namespace,
      String(n.pages),
      formatBytes(n.bytes),
      n.quotaBytes === 0 ? 'none' : formatBytes(n.quotaBytes),
      n.defaultTtlMs === 0 ? 'cluster' : String(n.defaultTtlMs),
      `${n.evictedPages}/${formatBytes(n.evictedBytes)}`,
      String(n.expiredPages),
      ratio === null ? '-' : `${(ratio * 100).toFixed(1)}%`,
    ];
  });
  const right = 'right' as const;
  const columns = [
    { header: 'NAMESPACE' },
    { header: 'PAGES', align: right },
    { header: 'BYTES', align: right },
    { header: 'QUOTA', align: right },
    { header: 'TTL MS', align: right },
    { header: 'EVICTED', align: right },
    { header: 'EXPIRED', align: right },
    { header: 'LOOKUP HIT%', align: right },
  ];
  printLine(rows.length === 0 ? 'no namespaces' : renderTable(columns, rows));
  printLine(`as member ${list.endpoint} sees it at applied index ${list.appliedIndex}; LOOKUP HIT% is that member's own lookups since it started`);
}
