// The `kvc` command line (bin/kvc.js loads this file): runs the program on process.argv, flushes
// what it printed, and exits with its status. Exiting explicitly (rather than waiting for the
// event loop to drain) keeps a lingering gRPC channel from hanging a finished command.
import { tuneAllocator } from '../native/index.js';
import { run } from './program.js';

/** Waits until what was written to stdout and stderr has been handed to the OS. */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => (stream.writableLength === 0 ? resolve() : stream.write('', () => resolve())));
}

// Every kvc process (members included: `kvc start`) moves MiB-sized buffers; before any is made.
tuneAllocator();
const code = await run(process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
