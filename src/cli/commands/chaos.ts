// `kvc chaos`: a fault-injection run against a real local cluster with a verdict (docs/CHAOS.md).
// It starts the members behind the harness's proxies, runs the workload under the seeded fault
// schedule, heals, checks the history and prints the verdict: a table, or with --json one JSON
// document on stdout. Progress goes to stderr: the harness's lines, and on a terminal (or with
// --progress) a bar of the workload's seconds between them. Exit status: 0 when the verdict is ok, 1 when it
// is not, 2 when the harness itself failed or was interrupted (no verdict).
//
// `--recheck FILE` checks a history saved by an earlier `--report DIR` (DIR/history.jsonl) again,
// without running anything.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { formatBytes, parseByteSize } from '../../config/index.js';
import { LIMITS } from '../../limits.js';
import type { ChaosSummary } from '../../chaos/index.js';
// Only the names at load time: the harness itself (processes, proxies, checkers) is loaded when
// the command runs, so every other command starts without it.
// The names only (types.ts imports nothing at run time): the nemeses themselves load with the run.
import { ALL_NEMESIS_NAMES, NEMESIS_NAMES, STORAGE_NEMESIS_NAMES, type NemesisName } from '../../chaos/nemesis/types.js';
import { CliError, EXIT_FAILURE } from '../cli-error.js';
import { integerIn } from '../options.js';
import { printJson, printLine } from '../output.js';
import { TimedProgress, progressEnabled } from '../progress-bar.js';
import { StopSignal } from '../stop-signal.js';
import { unsafeSwitchArgs } from '../unsafe-switches.js';

/** Exit status when the harness could not produce a verdict. */
export const EXIT_HARNESS = 2;
const NODES_MIN = 3;
const NODES_MAX = 9;
const CLIENTS_MAX = 64;
const DURATION_MS_MIN = 5_000;
const DURATION_MS_MAX = 60 * 60 * 1000;
const LINK_DELAY_MS_MAX = 2_000;
const SEED_MAX = 0xffff_ffff;
/** The smallest budget a cluster accepts: one largest page (config validation says the same). */
const BUDGET_BYTES_MIN = LIMITS.page.bytesMax;
/** The workload's key space, explicit (--keys): at least one key, at most what the finals read in bounded time (WORKLOAD_KEYS_MAX). */
const KEYS_MIN = 1;
const KEYS_MAX = 4_096;

interface ChaosCliOptions {
  nodes: number;
  duration: number;
  clients: number;
  seed?: number;
  nemesis: NemesisName[];
  report?: string;
  json?: boolean;
  linkDelay: number;
  keep?: boolean;
  recheck?: string;
  budget?: number;
  keys?: number;
  progress?: boolean;
}

export function registerChaos(program: Command): void {
  program
    .command('chaos')
    .description('run faults against a local cluster of real members and check what the clients saw')
    .option('--nodes <n>', `members (${NODES_MIN}-${NODES_MAX})`, integerIn(NODES_MIN, NODES_MAX), 5)
    .addOption(
      new Option('--duration <time>', 'how long the workload and the faults run (e.g. 60s, 2m)').argParser(durationIn(DURATION_MS_MIN, DURATION_MS_MAX)).default(60_000, '60s'),
    )
    .option('--clients <n>', 'concurrent workload clients', integerIn(1, CLIENTS_MAX), 8)
    .option('--seed <n>', 'seed of the schedule and the workload (default: random, printed)', integerIn(0, SEED_MAX))
    .addOption(new Option('--nemesis <list>', `faults to inject, comma-separated, or "none"; also: ${STORAGE_NEMESIS_NAMES.join(',')}`).argParser(parseNemeses).default([...NEMESIS_NAMES], NEMESIS_NAMES.join(',')))
    .option('--report <dir>', 'write history.jsonl, verdict.json, index.html (timeline) and the member logs there')
    .option('--json', 'print one JSON document with the verdict on stdout')
    .addOption(new Option('--link-delay <time>', 'latency added to every peer link (e.g. 200ms)').argParser(durationIn(0, LINK_DELAY_MS_MAX)).default(0, '0ms'))
    .option('--budget <size>', `the cluster's byte budget, small so that pages are evicted under faults (e.g. 32MiB; at least ${formatBytes(BUDGET_BYTES_MIN)})`, budgetSize)
    .option('--keys <n>', 'keys of the workload (default 24; with --budget, enough for about three budgets of pages)', integerIn(KEYS_MIN, KEYS_MAX))
    .option('--keep', 'keep the work directory (data, configs, logs) and print where it is')
    .option('--recheck <history.jsonl>', 'check a saved history again instead of running')
    .option('--progress', "draw the workload's progress on stderr even when it is not a terminal (default: only on one, and not with --json)")
    .action(async (o: ChaosCliOptions) => {
      process.exitCode = o.recheck !== undefined ? await recheck(o.recheck, o.json === true) : await runCommand(o);
    });
}

async function runCommand(o: ChaosCliOptions): Promise<number> {
  const { HarnessError, checkHistory, keysForBudget, runChaos, summarize, writeReport } = await import('../../chaos/index.js');
  const seed = o.seed ?? Math.floor(Math.random() * SEED_MAX);
  const progress = new TimedProgress({ label: 'chaos', durationMs: o.duration, enabled: progressEnabled(o) });
  const log = (line: string): void => {
    // The bar spans the workload: from the harness's "cluster up" line to its "workload stopped".
    if (line.startsWith('workload stopped')) progress.stop();
    progress.log(`kvc chaos: ${line}`);
    if (line.startsWith('cluster up')) progress.start();
  };
  const controller = new AbortController();
  // A first Ctrl-C stops the run and everything it started; a second one a while later exits at
  // once (run.ts's exit hook still SIGKILLs the members).
  const stop = new StopSignal({ onRepeat: () => process.exit(EXIT_HARNESS) });
  void stop.promise.then((why) => {
    log(`${why}: stopping the run and every member`);
    controller.abort(new Error(why));
  });
  const keys = o.keys ?? (o.budget === undefined ? undefined : keysForBudget(o.budget));
  const budgetNote = o.budget === undefined ? '' : `, budget ${formatBytes(o.budget)} over ${keys} keys`;
  log(`seed ${seed}: ${o.nodes} members, ${o.clients} clients, ${o.duration / 1000} s, nemeses ${o.nemesis.join(',') || 'none'}${budgetNote}`);
  try {
    const result = await runChaos({
      nodes: o.nodes,
      durationMs: o.duration,
      clients: o.clients,
      seed,
      nemeses: o.nemesis,
      linkDelayMs: o.linkDelay,
      check: checkHistory,
      log,
      signal: controller.signal,
      ...(o.report === undefined ? {} : { logDir: path.join(o.report, 'logs') }),
      ...(o.keep === true ? { keep: true } : {}),
      ...(o.budget === undefined ? {} : { budgetBytes: o.budget }),
      ...(keys === undefined ? {} : { keys }),
      // The harness's own tests turn test-only switches on with their variables; the members get both.
      memberArgs: unsafeSwitchArgs(),
    });
    const summary = summarize(result, { clients: o.clients, durationMs: o.duration, ...(o.report === undefined ? {} : { reportDir: o.report }) });
    if (o.report !== undefined) {
      await writeReport(o.report, result.history, summary, result.verdict);
      log(`report written to ${summary.report}/index.html`);
    }
    if (result.keptDir !== undefined) log(`kept ${result.keptDir}`);
    await print(summary, o.json === true);
    return summary.ok ? 0 : EXIT_FAILURE;
  } catch (error) {
    if (error instanceof HarnessError) throw new CliError(error.message, EXIT_HARNESS);
    throw error;
  } finally {
    progress.stop();
    stop.dispose();
  }
}

async function recheck(file: string, json: boolean): Promise<number> {
  const { checkHistory, parseHistoryJsonLines, summarize } = await import('../../chaos/index.js');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, EXIT_HARNESS);
  }
  const history = parseHistoryJsonLines(text);
  const verdict = await checkHistory(history);
  const counts: Record<string, number> = {};
  for (const fault of history.faults) counts[fault.nemesis] = (counts[fault.nemesis] ?? 0) + 1;
  const end = history.operations.reduce((latest, op) => Math.max(latest, op.completeMs ?? op.invokeMs), history.startedMs);
  const clients = new Set(history.operations.map((op) => op.client)).size;
  const summary = summarize(
    { history, verdict, faults: counts, incidents: [], convergenceWaitMs: 0, elapsedMs: 0 },
    { clients, durationMs: end - history.startedMs },
  );
  await print(summary, json);
  return summary.ok ? 0 : EXIT_FAILURE;
}

async function print(summary: ChaosSummary, json: boolean): Promise<void> {
  if (json) return printJson(summary);
  const { renderVerdictTable } = await import('../../chaos/index.js');
  printLine(renderVerdictTable(summary));
}

function parseNemeses(text: string): NemesisName[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '' && name !== 'none');
  for (const name of names) {
    if (!(ALL_NEMESIS_NAMES as readonly string[]).includes(name)) throw new InvalidArgumentError(`unknown nemesis "${name}" (expected ${ALL_NEMESIS_NAMES.join(', ')} or none)`);
  }
  return [...new Set(names)] as NemesisName[];
}

/** A byte size flag (64MiB, 1GiB, plain bytes) of at least one largest page. */
function budgetSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined || bytes < BUDGET_BYTES_MIN) {
    throw new InvalidArgumentError(`expected a size of at least ${formatBytes(BUDGET_BYTES_MIN)} such as 32MiB or 1GiB, got "${text}"`);
  }
  return bytes;
}

/** A duration flag: "60s", "2m", "500ms", or a plain number of seconds; within [minMs, maxMs]. */
function durationIn(minMs: number, maxMs: number): (text: string) => number {
  return (text) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
    const unitMs = { ms: 1, s: 1000, m: 60_000 }[match?.[2] ?? 's'] ?? 1000;
    const ms = match === null ? NaN : Math.round(Number(match[1]) * unitMs);
    if (!Number.isFinite(ms) || ms < minMs || ms > maxMs) {
      throw new InvalidArgumentError(`expected a duration from ${minMs} ms to ${maxMs / 1000} s such as 60s, 2m or 500ms, got "${text}"`);
    }
    return ms;
  };
}
