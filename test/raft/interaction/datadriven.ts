// A small reader and writer for datadriven test files, the format of etcd's (and CockroachDB's)
// `datadriven` package, so that our Raft scripts read like etcd-raft's testdata:
//
//   # A comment.
//   command arg key=value key=(1,2,3)
//   optional extra input lines
//   ----
//   expected output
//   (a blank line ends the block)
//
// Output that itself contains blank lines is written between a doubled separator:
// `----` `----` before it and `----` `----` after it. Rewriting keeps comments, blank lines and
// commands byte for byte and replaces only the expected outputs.

const SEPARATOR = '----';

/** One argument of a command line: `key=value`, `key=(a,b)`, a bare word, `(a,b)` or `"text"`. */
export interface CommandArg {
  key: string | undefined;
  values: string[];
}

export interface TestBlock {
  /** 1-based line of the command, for messages. */
  line: number;
  /** The command line as written (without the trailing newline). */
  commandLine: string;
  command: string;
  args: CommandArg[];
  /** Lines between the command line and the separator. */
  input: string[];
  /** The expected output, without a trailing newline. */
  expected: string;
}

type Chunk = { kind: 'verbatim'; line: string } | { kind: 'block'; block: TestBlock; inputLines: string[] };

export class DataDrivenFile {
  readonly #chunks: Chunk[];

  private constructor(chunks: Chunk[]) {
    this.#chunks = chunks;
  }

  static parse(text: string, fileName: string): DataDrivenFile {
    return new DataDrivenFile(parseChunks(text.split('\n'), fileName));
  }

  blocks(): TestBlock[] {
    const out: TestBlock[] = [];
    for (const chunk of this.#chunks) if (chunk.kind === 'block') out.push(chunk.block);
    return out;
  }

  /** The file again with each block's expected output replaced by `outputs.get(block)` when present. */
  render(outputs: Map<TestBlock, string>): string {
    const lines: string[] = [];
    for (const chunk of this.#chunks) {
      if (chunk.kind === 'verbatim') {
        lines.push(chunk.line);
        continue;
      }
      lines.push(chunk.block.commandLine, ...chunk.inputLines);
      const output = outputs.get(chunk.block) ?? chunk.block.expected;
      if (output.split('\n').includes('')) {
        lines.push(SEPARATOR, SEPARATOR, output, SEPARATOR, SEPARATOR, '');
      } else {
        lines.push(SEPARATOR, ...(output === '' ? [] : [output]), '');
      }
    }
    return lines.join('\n');
  }
}

function parseChunks(lines: string[], fileName: string): Chunk[] {
  const chunks: Chunk[] = [];
  let i = 0;
  // A file ending in a newline splits into a last empty string that is not a line of its own.
  const end = lines.length > 0 && lines[lines.length - 1] === '' ? lines.length - 1 : lines.length;
  while (i < end) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trimStart().startsWith('#')) {
      chunks.push({ kind: 'verbatim', line });
      i++;
      continue;
    }
    const start = i;
    const inputLines: string[] = [];
    i++;
    while (i < end && lines[i] !== SEPARATOR) inputLines.push(lines[i++]!);
    if (i >= end) throw new Error(`${fileName}:${start + 1}: command without a ${SEPARATOR} line`);
    i++;
    const { expected, next } = readExpected(lines, i, end, fileName);
    i = next;
    const { command, args } = parseCommandLine(line, `${fileName}:${start + 1}`);
    const block: TestBlock = { line: start + 1, commandLine: line, command, args, input: inputLines, expected };
    chunks.push({ kind: 'block', block, inputLines });
  }
  return chunks;
}

/** Reads an expected output starting at `i` (just after the separator); consumes the ending blank line. */
function readExpected(lines: string[], i: number, end: number, fileName: string): { expected: string; next: number } {
  const out: string[] = [];
  if (i < end && lines[i] === SEPARATOR) {
    i++;
    while (i < end && !(lines[i] === SEPARATOR && lines[i + 1] === SEPARATOR)) out.push(lines[i++]!);
    if (i >= end) throw new Error(`${fileName}:${i}: unterminated ${SEPARATOR} ${SEPARATOR} output`);
    i += 2;
  } else {
    while (i < end && lines[i] !== '') out.push(lines[i++]!);
  }
  if (i < end && lines[i] === '') i++;
  return { expected: out.join('\n'), next: i };
}

/** Splits a command line into the command and its arguments (see CommandArg). */
export function parseCommandLine(line: string, where: string): { command: string; args: CommandArg[] } {
  const tokens = tokenize(line, where);
  const [command, ...rest] = tokens;
  if (command === undefined) throw new Error(`${where}: empty command`);
  return { command, args: rest.map((token) => parseArg(token)) };
}

function tokenize(line: string, where: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  for (const ch of line.trim()) {
    if (quoted) {
      current += ch;
      if (ch === '"') quoted = false;
      continue;
    }
    if (ch === '"') quoted = true;
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (/\s/.test(ch) && depth === 0) {
      if (current !== '') tokens.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  if (quoted || depth !== 0) throw new Error(`${where}: unbalanced quotes or parentheses`);
  if (current !== '') tokens.push(current);
  return tokens;
}

function parseValues(text: string): string[] {
  if (text.startsWith('(') && text.endsWith(')')) {
    const inner = text.slice(1, -1).trim();
    return inner === '' ? [] : inner.split(',').map((v) => unquote(v.trim()));
  }
  return [unquote(text)];
}

function unquote(text: string): string {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) return JSON.parse(text) as string;
  return text;
}

function parseArg(token: string): CommandArg {
  const eq = token.indexOf('=');
  const firstSpecial = token.search(/["(]/);
  if (eq > 0 && (firstSpecial === -1 || eq < firstSpecial)) {
    return { key: token.slice(0, eq), values: parseValues(token.slice(eq + 1)) };
  }
  return { key: undefined, values: parseValues(token) };
}
