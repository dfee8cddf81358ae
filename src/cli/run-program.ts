// How a `kvc` run ends (program.ts): 0; EXIT_FAILURE (1) with one clear line on stderr for an
// operating error; or EXIT_USAGE (2) for a command line that does not parse (commander prints
// why). Apart from program.ts so a test can run one command in-process without loading them all.
import { CommanderError, type Command } from 'commander';
import { CliError, EXIT_FAILURE, EXIT_USAGE, describeError } from './cli-error.js';

/** Runs `argv` (process.argv form) on `program` (built with exitOverride) and returns the exit status. */
export async function runProgram(program: Command, argv: string[]): Promise<number> {
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
