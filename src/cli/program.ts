// The `kvc` program: every command (each in commands/) wired into one commander program; how a run
// ends is run-program.ts.
import { Command } from 'commander';
import { registerAdmin } from './commands/admin.js';
import { registerBench } from './commands/bench.js';
import { registerCerts } from './commands/certs.js';
import { registerChaos } from './commands/chaos.js';
import { registerConfig } from './commands/config.js';
import { registerDev } from './commands/dev.js';
import { registerNamespaces } from './commands/namespaces.js';
import { registerPages } from './commands/pages.js';
import { registerProfile } from './commands/profile.js';
import { registerRemovals } from './commands/removals.js';
import { registerWatch } from './commands/watch.js';
import { registerStart } from './commands/start.js';
import { registerStatus } from './commands/status.js';
import { registerTrace } from './commands/trace.js';
import { runProgram } from './run-program.js';

const VERSION = '0.1.0';

export function buildProgram(): Command {
  const program = new Command('kvc')
    .description('kvcache-cluster: a Raft-replicated store of KV-cache pages')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride();
  registerStart(program);
  registerDev(program);
  registerStatus(program);
  registerPages(program);
  registerAdmin(program);
  registerNamespaces(program);
  registerConfig(program);
  registerRemovals(program);
  registerWatch(program);
  registerBench(program);
  registerTrace(program);
  registerChaos(program);
  registerProfile(program);
  registerCerts(program);
  return program;
}

/** Runs the command line `argv` (process.argv form) and returns the exit status. */
export function run(argv: string[]): Promise<number> {
  return runProgram(buildProgram(), argv);
}
