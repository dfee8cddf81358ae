// The one error a cluster config produces: every problem found in the file, each naming the field
// (`members[2].address`) so an operator can fix the file without reading code. Loading stops at
// the whole file, not at the first problem, so one edit-and-retry round fixes everything.

export interface ConfigIssue {
  /** Where the problem is, e.g. "members[2].address"; empty for the document itself. */
  field: string;
  /** What is wrong, e.g. 'expected host:port, got "foo"'. */
  problem: string;
  /** 1-based line in the file, when known. */
  line?: number;
}

/** A cluster config that cannot be used. `message` has one line per issue. */
export class ConfigError extends Error {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: ConfigIssue[]) {
    super(issues.map((issue) => formatIssue(source, issue)).join('\n'));
    this.name = 'ConfigError';
    this.source = source;
    this.issues = Object.freeze([...issues]);
  }
}

/** `source: field: problem (line N)`, the format every config message has. */
export function formatIssue(source: string, issue: ConfigIssue): string {
  const where = issue.field === '' ? '' : `${issue.field}: `;
  const line = issue.line === undefined ? '' : ` (line ${issue.line})`;
  return `${source}: ${where}${issue.problem}${line}`;
}

export function isConfigError(error: unknown): error is ConfigError {
  return error instanceof ConfigError;
}
