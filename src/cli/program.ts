// The `kvc` program: every command (each in commands/) wired into one commander program, and the
// rule for how a run ends: 0; EXIT_FAILURE (1) with one clear line on stderr for an operating
// error; or EXIT_USAGE (2) for a command line that does not parse (commander prints why).
import { Command, CommanderError } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE, describeError } from './cli-error.js';
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
export async function run(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    // Commander already printed its own message (usage error) or the help/version text.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_USAGE;
    const command = commandPath(argv);
    process.stderr.write(`kvc${command}: ${describeError(error)}\n`);
    return error instanceof CliError ? error.exitCode : EXIT_FAILURE;
  }
}

/** " put" or " members add" for the message prefix, from the words before the first option. */
function commandPath(argv: string[]): string {
  const words: string[] = [];
  for (const word of argv.slice(2)) {
    if (word.startsWith('-') || words.length === 2) break;
    words.push(word);
  }
  return words.length === 0 ? '' : ` ${words.join(' ')}`;
}
