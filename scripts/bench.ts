// Runs benchmark suites (scripts/bench/registry.ts) and reports them.
//
//   npm run bench -- <suite|all> [--json] [--seconds N] [--warmup N] [--gib N] [--part write|read] [--kills N]
//
// Suites: raft (the consensus core in memory), store (replicated puts through three real members
// and the disk's ceiling), recovery (restart time of one member holding --gib GiB of pages), peers
// (our puts through `kvc dev` processes beside a 3-member etcd it starts, and the disk's ceiling;
// our reads beside a Redis it starts and the transports' ceilings; `--part` picks one side),
// failover (SIGKILL the leader of a 5-member `kvc dev` cluster --kills times; elections under load).
// Prints a markdown table per suite; with --json the last stdout line is the JSON document
// ({"suite": ..., "results": [...]} for one suite, an array of them for `all`), except that a
// single suite with a `summary` (native) prints that object after it, as the very last line. Progress lines go
// to stderr. Every report is also written to bench-results/<suite>-<timestamp>.json (gitignored).
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, platform } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { tuneAllocator } from '../src/native/index.js';
import { SUITES } from './bench/registry.js';
import type { BenchOptions, SuiteReport } from './bench/types.js';

const RESULTS_DIR = 'bench-results';

const { values, positionals } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    gib: { type: 'string' },
    part: { type: 'string' },
    kills: { type: 'string' },
  },
  allowPositionals: true,
  strict: true,
});

const requested = positionals[0];
if (requested === undefined || (requested !== 'all' && !SUITES.has(requested))) {
  console.error(`usage: npm run bench -- <${[...SUITES.keys(), 'all'].join('|')}> [--json] [--seconds N] [--warmup N] [--gib N] [--part NAME] [--kills N]`);
  process.exit(2);
}

function positiveOption(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!(value > 0)) throw new Error(`--${name} must be a positive number, got ${text}`);
  return value;
}

const options: BenchOptions = {
  progress: (line) => process.stderr.write(`[bench] ${line}\n`),
};
const secondsPerCase = positiveOption('seconds', values.seconds);
const gib = positiveOption('gib', values.gib);
// 0 is a valid warm-up: only the few puts every case starts with.
const warmupSeconds = values.warmup === undefined ? undefined : Number(values.warmup);
if (warmupSeconds !== undefined && !(warmupSeconds >= 0)) throw new Error(`--warmup must be a number of seconds, 0 or more, got ${values.warmup}`);
if (warmupSeconds !== undefined) options.warmupSeconds = warmupSeconds;
const kills = positiveOption('kills', values.kills);
if (secondsPerCase !== undefined) options.secondsPerCase = secondsPerCase;
if (gib !== undefined) options.gib = gib;
if (kills !== undefined) options.kills = kills;
if (values.part !== undefined) options.part = values.part;

// The suites move pages through this process as a member or `kvc bench` does: the same allocator
// settings as every kvc process (src/native tuneAllocator; KVC_MALLOC_TUNING=0 measures without).
tuneAllocator();

const suites = requested === 'all' ? [...SUITES.values()] : [SUITES.get(requested)!];
const environment = {
  node: process.version,
  platform: `${platform()}-${arch()}`,
  cpu: cpus()[0]?.model ?? 'unknown',
  cpus: cpus().length,
  date: new Date().toISOString(),
};
const documents: (SuiteReport & typeof environment)[] = [];
mkdirSync(RESULTS_DIR, { recursive: true });
for (const suite of suites) {
  console.log(`## ${suite.name}: ${suite.description}\n`);
  const report = await suite.run(options);
  console.log(`${report.table}\n`);
  for (const note of report.notes) console.log(`- ${note}`);
  console.log('');
  const document = { ...report, ...environment };
  documents.push(document);
  const file = join(RESULTS_DIR, `${suite.name}-${environment.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(document, null, 2)}\n`);
  console.log(`written to ${file}`);
}
if (values.json) {
  const { table: _table, ...first } = documents[0]!;
  console.log(JSON.stringify(documents.length === 1 ? first : documents.map(({ table: _t, ...d }) => d)));
  // A suite's summary is the one object scripts read: it goes last, alone on its line.
  if (documents.length === 1 && first.summary !== undefined) console.log(JSON.stringify(first.summary));
}
