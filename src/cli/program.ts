// The `kvc` program: every command (each in commands/) wired into one commander program; how a run
// ends is run-program.ts. A run loads only the module of the command it names (COMMAND_MODULES):
// importing all fourteen, with what they import, cost a `kvc status` ~50 ms of CPU before its
// first line. Help, usage errors and unknown words load them all, so help lists every command and
// commander can suggest the nearest one.
import { Command } from 'commander';
import { runProgram } from './run-program.js';

const VERSION = '0.1.0';

/** A module of commands/: the top-level commands it registers, and how to load its register function. */
export interface CommandModule {
  names: readonly string[];
  load: () => Promise<(program: Command) => void>;
}

/** Every command module, in the order `kvc --help` lists them; test/cli/program.test.ts checks the names. */
export const COMMAND_MODULES: readonly CommandModule[] = [
  { names: ['start'], load: async () => (await import('./commands/start.js')).registerStart },
  { names: ['dev'], load: async () => (await import('./commands/dev.js')).registerDev },
  { names: ['status'], load: async () => (await import('./commands/status.js')).registerStatus },
  { names: ['put', 'get', 'lookup', 'delete', 'pin', 'unpin'], load: async () => (await import('./commands/pages.js')).registerPages },
  { names: ['members', 'leader', 'snapshot'], load: async () => (await import('./commands/admin.js')).registerAdmin },
  { names: ['ns'], load: async () => (await import('./commands/namespaces.js')).registerNamespaces },
  { names: ['config'], load: async () => (await import('./commands/config.js')).registerConfig },
  { names: ['removals'], load: async () => (await import('./commands/removals.js')).registerRemovals },
  { names: ['watch'], load: async () => (await import('./commands/watch.js')).registerWatch },
  { names: ['bench'], load: async () => (await import('./commands/bench.js')).registerBench },
  { names: ['trace'], load: async () => (await import('./commands/trace.js')).registerTrace },
  { names: ['chaos'], load: async () => (await import('./commands/chaos.js')).registerChaos },
  { names: ['profile'], load: async () => (await import('./commands/profile.js')).registerProfile },
  { names: ['certs', 'token'], load: async () => (await import('./commands/certs.js')).registerCerts },
];

/**
 * The program for `argv` (process.argv form): with only the module of the command its first word
 * names, or with every command when that word names none (help, --version, a typo, nothing).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('kvc')
    .description('kvcache-cluster: a Raft-replicated store of KV-cache pages')
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride();
  const word = argv[2];
  const named = COMMAND_MODULES.find((module) => word !== undefined && module.names.includes(word));
  const registers = await Promise.all((named === undefined ? COMMAND_MODULES : [named]).map((module) => module.load()));
  for (const register of registers) register(program);
  return program;
}

/** Runs the command line `argv` (process.argv form) and returns the exit status. */
export async function run(argv: string[]): Promise<number> {
  return runProgram(await buildProgram(argv), argv);
}
