// Proves that the committed message types (src/proto/generated/) are what `npm run gen:proto`
// makes from proto/ now, with the loader options every process uses: it regenerates into a
// temporary directory with the real generator (scripts/gen-proto.ts, proto-loader-gen-types) and
// compares file by file, so a .proto change without regenerating fails here. It also proves the
// generator's flags follow PROTO_LOADER_OPTIONS, and that an option the script cannot pass stops it.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { GENERATED_DIR, generatorFlags, main } from '../../scripts/gen-proto.js';
import { PROTO_LOADER_OPTIONS } from '../../src/proto/index.js';

/** Every file under `dir`, relative to it, in name order. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)))
    .sort();
}

t.test('the committed types are what gen:proto makes from proto/ now', async (t) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kvc-gen-proto-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(main(['--out', dir]), dir, 'as `npm run gen:proto -- --out DIR` does');
  const fresh = filesUnder(dir);
  t.ok(fresh.includes(path.join('kvcache', 'v1', 'GetPagesResponse.ts')), 'a message of cache.proto is generated');
  t.ok(fresh.includes('index.ts'), 'the index is written');
  t.same(filesUnder(GENERATED_DIR), fresh, 'the same files (run `npm run gen:proto` after changing proto/)');
  const stale = fresh.filter((file) => readFileSync(path.join(dir, file), 'utf8') !== readFileSync(path.join(GENERATED_DIR, file), 'utf8'));
  t.same(stale, [], 'with the same contents (run `npm run gen:proto` after changing proto/)');
});

t.test("the generator's flags are the loader options", async (t) => {
  t.same(generatorFlags(PROTO_LOADER_OPTIONS), ['--longs=Number', '--enums=String', '--defaults', '--oneofs', '--includeDirs=proto']);
  t.same(generatorFlags({ keepCase: true, arrays: true, objects: false, json: true }), ['--keepCase', '--arrays', '--json'], 'booleans pass when true');
  t.throws(() => generatorFlags({ bytes: String }), /PROTO_LOADER_OPTIONS.bytes has no proto-loader-gen-types flag/, 'an option it cannot pass stops it');
  t.throws(() => generatorFlags({ longs: BigInt as unknown as NumberConstructor }), /only Number or String/, 'as does a type it cannot name');
});
