// The `kvc` command line (bin/kvc.js loads this file): runs the program on process.argv, flushes
// what it printed, and exits with its status. Exiting explicitly (rather than waiting for the
// event loop to drain) keeps a lingering gRPC channel from hanging a finished command.
import { buildProgram } from './program.js';
import { runProgram } from './run-program.js';

/** Waits until what was written to stdout and stderr has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

const program = buildProgram();
// Every command that runs (members included: `kvc start`) moves MiB-sized buffers: the allocator is
// tuned before its action makes any. In a hook rather than at the top, so that `--help`,
// `--version` and usage errors, which never reach an action, do not load the native addon.
program.hook('preAction', async () => {
  const { tuneAllocator } = await import('../native/index.js');
  tuneAllocator();
});
const code = await runProgram(program, process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
