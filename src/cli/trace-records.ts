// Mooncake-format request traces (FAST'25, kvcache-ai/Mooncake): one JSON object per line,
// {"timestamp": ms since start, "input_length": tokens, "output_length": tokens, "hash_ids": [...]},
// each hash id naming one 512-token block of the input, prefix-chained (two requests with equal
// ids up to position k share their first k+1 blocks). The parser is pure: it takes lines and
// returns records or throws a TraceFormatError naming the line, so `kvc trace replay` can report a
// bad record as one clear line and the tests need no files.

/** Tokens per hash id in a Mooncake trace. */
export const TRACE_BLOCK_TOKENS = 512;
/** Requests one replay reads at most (with --limit or not): a bound on memory and run time. */
export const TRACE_REQUESTS_MAX = 1_000_000;
/** Blocks of one request at most: 8 Mi tokens, far beyond any context window. */
export const TRACE_BLOCKS_PER_REQUEST_MAX = 16_384;
/** Characters of a bad line quoted in an error message. */
const QUOTE_CHARS_MAX = 60;

export interface TraceRequest {
  /** 1-based line of the record in its file. */
  line: number;
  timestampMs: number;
  inputTokens: number;
  outputTokens: number;
  hashIds: number[];
}

/** A line that is not a valid record; `line` is 1-based. */
export class TraceFormatError extends Error {
  readonly line: number;

  constructor(line: number, reason: string) {
    super(`line ${line}: ${reason}`);
    this.name = 'TraceFormatError';
    this.line = line;
  }
}

/** The record on line `line` (1-based), or undefined for a blank line. */
export function parseTraceLine(text: string, line: number): TraceRequest | undefined {
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TraceFormatError(line, `not JSON: ${quote(text)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TraceFormatError(line, `expected a JSON object, got ${quote(text)}`);
  const record = value as Record<string, unknown>;
  const timestampMs = record.timestamp;
  if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs) || timestampMs < 0) {
    throw new TraceFormatError(line, `"timestamp" must be a non-negative number of ms, got ${JSON.stringify(timestampMs)}`);
  }
  return {
    line,
    timestampMs,
    inputTokens: count(record, 'input_length', line),
    outputTokens: count(record, 'output_length', line),
    hashIds: hashIds(record.hash_ids, line),
  };
}

/**
 * The first `limit` records of `lines` (all when undefined), in order; blank lines are skipped.
 * Reading stops at the limit, so the rest of a file is never parsed. Throws a TraceFormatError for
 * the first bad line, or when there are more than TRACE_REQUESTS_MAX records and no limit.
 */
export async function readTrace(lines: AsyncIterable<string> | Iterable<string>, limit?: number): Promise<TraceRequest[]> {
  const requests: TraceRequest[] = [];
  let line = 0;
  for await (const text of lines) {
    if (requests.length === limit) break;
    line++;
    const request = parseTraceLine(text, line);
    if (request === undefined) continue;
    if (requests.length === TRACE_REQUESTS_MAX) throw new TraceFormatError(line, `more than ${TRACE_REQUESTS_MAX} requests; replay part of them with --limit`);
    requests.push(request);
  }
  return requests;
}

function count(record: Record<string, unknown>, field: string, line: number): number {
  const value = record[field];
  if (!isNonNegativeInteger(value)) throw new TraceFormatError(line, `"${field}" must be a non-negative integer, got ${JSON.stringify(value)}`);
  return value;
}

function hashIds(value: unknown, line: number): number[] {
  if (!Array.isArray(value)) throw new TraceFormatError(line, `"hash_ids" must be an array of block ids, got ${JSON.stringify(value)}`);
  if (value.length > TRACE_BLOCKS_PER_REQUEST_MAX) throw new TraceFormatError(line, `"hash_ids" has ${value.length} blocks, more than ${TRACE_BLOCKS_PER_REQUEST_MAX}`);
  value.forEach((id, i) => {
    if (!isNonNegativeInteger(id)) throw new TraceFormatError(line, `hash_ids[${i}] must be a non-negative integer, got ${JSON.stringify(id)}`);
  });
  return value as number[];
}

function isNonNegativeInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function quote(text: string): string {
  const trimmed = text.trim();
  return JSON.stringify(trimmed.length > QUOTE_CHARS_MAX ? `${trimmed.slice(0, QUOTE_CHARS_MAX)}…` : trimmed);
}
