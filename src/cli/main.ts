// The `kvc` command line (bin/kvc.js loads this file): runs the program on process.argv, flushes
// what it printed, and exits with its status. Exiting explicitly (rather than waiting for the
// event loop to drain) keeps a lingering gRPC channel from hanging a finished command.
import type { Command } from 'commander';
import { buildProgram } from './program.js';
import { runProgram } from './run-program.js';

/** Waits until what was written to stdout and stderr has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

/**
 * The commands whose process moves MiB-sized page buffers (a member, puts and gets, load and fault
 * runs): glibc malloc is tuned for them (native tuneAllocator) before their action makes any. The
 * others (status, lookup, admin calls) move kilobytes and skip the addon's load altogether; a new
 * command that moves pages belongs here.
 */
const PAGE_MOVING_COMMANDS: ReadonlySet<string> = new Set(['start', 'dev', 'put', 'get', 'bench', 'trace', 'chaos']);

/** The name of the top-level command `command` belongs to (`trace` for `kvc trace replay`). */
function topLevelName(command: Command): string {
  let current = command;
  while (current.parent?.parent) current = current.parent;
  return current.name();
}

// A reader that stops early (`kvc status | head -1`) closes the pipe: what is left to print has
// nowhere to go, which is no failure of the command (nor a crash with a stack, as Node's default
// makes of the EPIPE). Exit quietly, as a writer into `head` does.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const program = await buildProgram(process.argv);
// In a hook rather than at the top, so that `--help`, `--version` and usage errors, which never
// reach an action, do not load the native addon either.
program.hook('preAction', async (_program, action) => {
  if (!PAGE_MOVING_COMMANDS.has(topLevelName(action))) return;
  const { tuneAllocator } = await import('../native/index.js');
  tuneAllocator();
});
const code = await runProgram(program, process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
