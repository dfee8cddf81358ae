// Proves the pure halves of `kvc trace replay`. The parser: a Mooncake record becomes a request
// with its line number, blank lines are skipped, --limit stops reading, and every kind of bad
// line (not JSON, not an object, a bad timestamp, count or hash id) is refused with its 1-based
// line named. The block mapping: keys follow the documented formula (re-derived here from the
// spec), differ across ids and namespaces, and payloads are deterministic, distinct per id, and
// fill any length, odd tails included. All on small hand-made inputs with known answers.
import t from 'tap';
import { createHash } from 'node:crypto';
import { parseTraceLine, readTrace, TraceFormatError, TRACE_BLOCKS_PER_REQUEST_MAX } from '../../src/cli/trace-records.js';
import { blockKey, blockPayload, fillBlockPayload, TRACE_KEY_BYTES } from '../../src/cli/trace-blocks.js';

const record = (timestamp: unknown, hashIds: unknown, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ timestamp, input_length: 1024, output_length: 7, hash_ids: hashIds, ...extra });

t.test('a record becomes a request; blank lines are skipped; the limit stops reading', async (t) => {
  t.same(parseTraceLine(record(12.5, [0, 1, 2]), 3), { line: 3, timestampMs: 12.5, inputTokens: 1024, outputTokens: 7, hashIds: [0, 1, 2] });
  t.equal(parseTraceLine('   ', 4), undefined, 'a blank line is no record');
  t.same(parseTraceLine(record(0, []), 1)?.hashIds, [], 'a request shorter than one block has no hash ids');

  const lines = [record(0, [0, 1]), '', record(5, [0, 1, 2]), record(9, [3])];
  const all = await readTrace(lines);
  t.same(all.map((r) => r.line), [1, 3, 4], 'lines count from 1, blank ones included');
  t.same(all.map((r) => r.hashIds), [[0, 1], [0, 1, 2], [3]]);
  const firstTwo = await readTrace(lines, 2);
  t.same(firstTwo.map((r) => r.line), [1, 3], '--limit keeps the first records');
  // The limit is reached before the bad line, so it is never parsed.
  t.equal((await readTrace([record(0, [1]), 'not json'], 1)).length, 1, 'reading stops at the limit');
});

t.test('a bad line is refused with its line number and why', async (t) => {
  const cases: [string, RegExp][] = [
    ['{"timestamp": 0,', /^line 2: not JSON: "\{\\"timestamp\\": 0,"$/],
    ['[1, 2]', /^line 2: expected a JSON object/],
    [record(-1, [1]), /^line 2: "timestamp" must be a non-negative number of ms, got -1$/],
    [record('0', [1]), /^line 2: "timestamp" must be/],
    [record(0, [1], { input_length: 1.5 }), /^line 2: "input_length" must be a non-negative integer, got 1.5$/],
    [record(0, [1], { output_length: undefined }), /^line 2: "output_length" must be a non-negative integer, got undefined$/],
    [record(0, '1,2'), /^line 2: "hash_ids" must be an array of block ids, got "1,2"$/],
    [record(0, [0, 1, -3]), /^line 2: hash_ids\[2\] must be a non-negative integer, got -3$/],
    [record(0, [0, 2 ** 53]), /^line 2: hash_ids\[1\] must be a non-negative integer/],
    [record(0, Array.from({ length: TRACE_BLOCKS_PER_REQUEST_MAX + 1 }, (_, i) => i)), /^line 2: "hash_ids" has 16385 blocks, more than 16384$/],
  ];
  for (const [bad, message] of cases) {
    const error = await readTrace([record(0, [0]), bad]).then(
      () => undefined,
      (e: unknown) => e,
    );
    t.ok(error instanceof TraceFormatError, `refused: ${bad.slice(0, 40)}`);
    t.equal((error as TraceFormatError).line, 2);
    t.match((error as Error).message, message);
  }
  t.throws(() => parseTraceLine(`"${'x'.repeat(200)}"`, 1), /got "\\"x{59}…"$/, 'a long line is quoted, not printed whole');
});

t.test('block keys follow the documented formula', async (t) => {
  const spec = (ns: string, id: number): string => {
    const idBytes = Buffer.alloc(8);
    idBytes.writeBigUInt64BE(BigInt(id));
    const digest = createHash('sha256').update(Buffer.concat([Buffer.from('kvc-trace-v1\0'), Buffer.from(ns), Buffer.from([0]), idBytes])).digest();
    return digest.subarray(0, 16).toString('hex');
  };
  for (const [ns, id] of [['trace', 0], ['trace', 1], ['tenant-a/llama', 43_923], ['é', 2 ** 53 - 1]] as const) {
    const key = blockKey(ns, id);
    t.equal(key.byteLength, TRACE_KEY_BYTES);
    t.equal(key.byteOffset, 0, 'the key owns its buffer');
    t.equal(Buffer.from(key).toString('hex'), spec(ns, id), `key of ${ns}/${id}`);
  }
  t.not(Buffer.from(blockKey('a', 1)).toString('hex'), Buffer.from(blockKey('b', 1)).toString('hex'), 'the namespace is in the key');
  t.not(Buffer.from(blockKey('a', 1)).toString('hex'), Buffer.from(blockKey('a', 2)).toString('hex'), 'the id is in the key');
});

t.test('block payloads are deterministic, distinct per id, and fill any length', async (t) => {
  t.same(blockPayload(7, 4096), blockPayload(7, 4096), 'the same id fills the same bytes');
  t.not(Buffer.compare(blockPayload(7, 64), blockPayload(8, 64)), 0, 'another id fills other bytes');
  t.not(Buffer.compare(blockPayload(0, 64), blockPayload(2 ** 32, 64)), 0, 'the high half of the id counts');
  t.same(blockPayload(7, 4096).subarray(0, 1000), blockPayload(7, 1000), 'a shorter page is a prefix of a longer one');
  const odd = blockPayload(9, 7);
  t.equal(odd.byteLength, 7);
  t.same(odd.subarray(0, 4), blockPayload(9, 4), 'the whole words come first');
  t.ok(blockPayload(3, 4096).some((b) => b !== 0), 'not all zero');
  const inner = new Uint8Array(20).fill(0xee);
  fillBlockPayload(5, inner.subarray(3, 13));
  t.same(inner.subarray(3, 13), blockPayload(5, 10), 'fills a view at an unaligned offset');
  t.equal(inner[2], 0xee, 'and nothing before it');
  t.equal(inner[13], 0xee, 'or after it');
});
