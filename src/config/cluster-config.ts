// Reading a cluster config file: YAML text → validated ClusterConfig, with every problem reported
// as `file: field: problem (line N)`. Also the reverse (a config rendered as YAML), which
// `kvc dev` uses to write the config of the cluster it spawns next to the cluster's data.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Document, LineCounter } from 'yaml';
import { ConfigError, type ConfigIssue } from './config-error.js';
import { fieldName, validateClusterConfig, type FieldPath } from './validate.js';
import type { ClusterConfig } from './types.js';

/**
 * The yaml package, loaded by the first parse or render: every `kvc` command imports this folder
 * (sizes, addresses), few read a config, and loading yaml costs ~75 ms of a CLI call's start.
 */
let yamlModule: typeof import('yaml') | undefined;
function yaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}

/** Config files are small; anything larger is not a config (and would be slow to parse). */
export const CONFIG_FILE_BYTES_MAX = 1024 * 1024;
/** YAML aliases can expand exponentially ("billion laughs"); a config needs very few. */
const YAML_ALIAS_COUNT_MAX = 100;

/** Parses and validates config `text`; `source` names it in messages (usually the file path). */
export function parseClusterConfig(text: string, source: string): ClusterConfig {
  const { LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true, version: '1.2' });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      source,
      doc.errors.map((error) => ({
        field: '',
        problem: `invalid YAML: ${yamlProblem(error.message)}`,
        ...(error.linePos ? { line: error.linePos[0].line } : {}),
      })),
    );
  }
  const raw: unknown = doc.toJS({ maxAliasCount: YAML_ALIAS_COUNT_MAX });
  if (raw === null || raw === undefined) throw new ConfigError(source, [{ field: '', problem: 'the file is empty' }]);
  const { config, issues } = validateClusterConfig(raw);
  if (!config) {
    const located = issues.map((issue): ConfigIssue => {
      const line = lineOf(doc, lineCounter, issue.path);
      return { field: fieldName(issue.path), problem: issue.problem, ...(line === undefined ? {} : { line }) };
    });
    // In file order, so the list reads top to bottom like the file (the sort is stable).
    located.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new ConfigError(source, located);
  }
  return config;
}

/** Reads and validates the config file at `file`. Throws ConfigError for every kind of failure. */
export async function loadClusterConfig(file: string): Promise<ClusterConfig> {
  let text: string;
  try {
    const bytes = await readFile(file);
    if (bytes.byteLength > CONFIG_FILE_BYTES_MAX) {
      throw new ConfigError(file, [{ field: '', problem: `the file is ${bytes.byteLength} bytes, over the ${CONFIG_FILE_BYTES_MAX}-byte limit for a config` }]);
    }
    text = bytes.toString('utf8');
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(file, [{ field: '', problem: `cannot read the file (${code ?? (error as Error).message})` }]);
  }
  return parseClusterConfig(text, file);
}

/** The config as a YAML document (what parseClusterConfig reads back into an equal config). */
export function renderClusterConfig(config: ClusterConfig, header?: string): string {
  const body: Record<string, unknown> = { cluster: config.cluster, dataDir: config.dataDir, members: config.members };
  if (Object.keys(config.raft).length > 0) body.raft = config.raft;
  if (Object.keys(config.storage).length > 0) body.storage = config.storage;
  if (Object.keys(config.compaction).length > 0) body.compaction = config.compaction;
  if (config.memory !== undefined) body.memory = config.memory;
  if (config.workers !== undefined) body.workers = config.workers;
  if (config.adminToken !== undefined) body.adminToken = config.adminToken;
  if (config.tls !== undefined) body.tls = config.tls;
  if (config.tokens !== undefined) body.tokens = config.tokens;
  if (config.log !== undefined) body.log = config.log;
  if (config.tracing !== undefined) body.tracing = config.tracing;
  const text = yaml().stringify(body, { version: '1.2', lineWidth: 0, collectionStyle: 'any' });
  const comment = header === undefined ? '' : header.split('\n').map((line) => `# ${line}`.trimEnd()).join('\n') + '\n';
  return comment + text;
}

/** Line of the node at `path`, or of its nearest ancestor that exists in the document. */
function lineOf(doc: Document, lineCounter: LineCounter, path: FieldPath): number | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const node: unknown = depth === 0 ? doc.contents : doc.getIn(path.slice(0, depth), true);
    if (yaml().isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
  }
  return undefined;
}

/** yaml's message without its code excerpt and position (the issue carries the line). */
function yamlProblem(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').trim();
}
