// Start-up cost of `kvc`: runs `node <tree>/bin/kvc.js ARGS` RUNS times and prints the median wall
// time and, where /usr/bin/time exists, the median CPU time (user + sys) of the process. With
// --before DIR (another checkout with its dist/ built, e.g. `git archive <commit> | tar -x -C DIR`,
// node_modules linked, `node scripts/build-dist.mjs`) the two trees run in turn, so both see the
// same machine load; the load average is printed before and after (docs/BENCHMARKS.md "kvc
// start-up and member memory"). Bounded by RUNS (default 15, at most 200).
//   node scripts/bench/cli-startup.mjs [--runs N] [--before DIR] -- --version
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const RUNS_MAX = 200;
const RUN_TIMEOUT_MS = 60_000;
const TIME = '/usr/bin/time';
const HERE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function parseArgs(argv) {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? argv : argv.slice(0, dash);
  const o = { runs: 15, before: undefined, args: dash === -1 ? ['--version'] : argv.slice(dash + 1) };
  for (let i = 0; i < own.length; i++) {
    if (own[i] === '--runs') o.runs = Math.min(RUNS_MAX, Math.max(1, Number(own[++i]) || 1));
    else if (own[i] === '--before') o.before = path.resolve(own[++i]);
    else throw new Error(`unknown option ${own[i]} (expected --runs N, --before DIR, then -- and kvc's arguments)`);
  }
  return o;
}

function runOnce(root, args, timeFile) {
  const useTime = existsSync(TIME);
  const command = useTime ? TIME : process.execPath;
  const commandArgs = [...(useTime ? ['-f', '%U %S', '-o', timeFile, process.execPath] : []), path.join(root, 'bin', 'kvc.js'), ...args];
  const startNs = process.hrtime.bigint();
  spawnSync(command, commandArgs, { stdio: 'ignore', timeout: RUN_TIMEOUT_MS });
  const wallMs = Number(process.hrtime.bigint() - startNs) / 1e6;
  if (!useTime) return { wallMs, cpuMs: NaN };
  const [user, sys] = readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
  return { wallMs, cpuMs: (user + sys) * 1000 };
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function summary(runs) {
  const wall = runs.map((r) => r.wallMs);
  const cpu = median(runs.map((r) => r.cpuMs));
  return `wall median ${median(wall).toFixed(0)} ms (min ${Math.min(...wall).toFixed(0)}, max ${Math.max(...wall).toFixed(0)})${Number.isNaN(cpu) ? '' : `, CPU median ${cpu.toFixed(0)} ms`}`;
}

const say = (line) => process.stdout.write(`${line}\n`);

const o = parseArgs(process.argv.slice(2));
const trees = [...(o.before ? [['before', o.before]] : []), [o.before ? 'after' : 'this tree', HERE]];
const scratch = mkdtempSync(path.join(os.tmpdir(), 'kvc-startup-'));
const loadBefore = readFileSync('/proc/loadavg', 'utf8').trim();
const results = new Map(trees.map(([name]) => [name, []]));
try {
  for (let i = 0; i < o.runs; i++) for (const [name, root] of trees) results.get(name).push(runOnce(root, o.args, path.join(scratch, 'time')));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
say(`kvc ${o.args.join(' ')}: ${o.runs} runs each${o.before ? ', alternating' : ''}; loadavg ${loadBefore} -> ${readFileSync('/proc/loadavg', 'utf8').trim()}`);
for (const [name, runs] of results) say(`  ${name.padEnd(9)} ${summary(runs)}`);
if (o.before) say(`  after/before wall median ${(median(results.get('after').map((r) => r.wallMs)) / median(results.get('before').map((r) => r.wallMs))).toFixed(2)}`);
