// How the CLI fails: one clear line on stderr and a non-zero exit, never a stack trace for an
// operating error. A CliError is a failure the CLI itself diagnosed (bad file, port in use); the
// client's and the config's errors already carry their codes and fields and are printed as they
// are. Anything else is a bug and is reported as one.

/** Exit status of a failed command (an operating error). */
export const EXIT_FAILURE = 1;
/** Exit status of a command line that could not be parsed (commander's usage errors). */
export const EXIT_USAGE = 2;

export class CliError extends Error {
  readonly exitCode: number;

  constructor(message: string, exitCode = EXIT_FAILURE) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}

/**
 * A src/config ConfigError, told by the name its constructor sets: an `instanceof` would import
 * src/config, whose validators cost every `kvc` call ~20 ms of CPU before its first line.
 */
function isConfigError(error: unknown): error is Error {
  return error instanceof Error && error.name === 'ConfigError';
}

/** The error as the message the CLI prints (several lines only for a config with several problems). */
export function describeError(error: unknown): string {
  if (error instanceof CliError || isConfigError(error)) return error.message;
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    // KvcClientError messages begin with their KVC_* code; Node system errors carry theirs in `code`.
    const code = (error as unknown as { code: string }).code;
    return error.message.startsWith(code) ? error.message : `${code}: ${error.message}`;
  }
  if (error instanceof Error) {
    const stack = process.env.KVC_DEBUG ? `\n${error.stack ?? ''}` : ' (set KVC_DEBUG=1 for the stack)';
    return `internal error: ${error.message}${stack}`;
  }
  return `internal error: ${String(error)}`;
}
