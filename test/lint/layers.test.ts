// Proves that the layering of src/ is enforced and drawn as it is. ESLint's Node API, with the
// repository's own eslint.config.js, lints fixture sources placed (by file path only) inside
// src/<folder>: an import against an arrow of docs/ARCHITECTURE.md (a static import, a type
// import, a re-export, a dynamic import(), one past a folder's index.ts, one into src/raft's
// isolation) is reported with the layering message, and the allowed imports next to them are
// not. Then the three descriptions of the layers are compared as sets of arrows: LAYERS in
// eslint.config.js, the diagram in docs/ARCHITECTURE.md, and the imports src/ really makes (read
// from the sources), so none of them can drift from the others, and the drawing's order shows
// there is no cycle. One ESLint instance, a few lintText calls; no files are written.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import t from 'tap';
import { ESLint } from 'eslint';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SRC = path.join(ROOT, 'src');

interface LayerConfig {
  LAYERS: Record<string, string[]>;
  LEAF_MODULES: string[];
}
const { LAYERS, LEAF_MODULES } = (await import(pathToFileURL(path.join(ROOT, 'eslint.config.js')).href)) as LayerConfig;

const eslint = new ESLint({ cwd: ROOT });

/** The layering messages ESLint gives `code` as if it were the file `filePath` (relative to the root). */
async function layeringErrors(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath });
  return result!.messages.filter((m) => m.message.includes('layering:')).map((m) => m.message);
}

t.test('an import against the layers fails lint; the allowed ones pass', async (t) => {
  const wrong: [string, string, RegExp][] = [
    // The arrows the issue found wrong: config importing the member's types, node importing rpc.
    ['src/config/fixture.ts', "import type { MemberOptions } from '../member/index.js';\nexport type Fixture = MemberOptions;\n", /src\/config may import no other folder, only the leaf modules/],
    ['src/node/fixture.ts', "import { loadProtos } from '../rpc/index.js';\nexport const fixture = loadProtos;\n", /src\/node may import only src\/codec, src\/raft, src\/store, src\/wal and/],
    ['src/codec/fixture.ts', "export { WorkPool } from '../workers/index.js';\n", /src\/codec may import only src\/bytes, src\/raft/],
    ['src/native/fixture.ts', "export const fixture = await import('../codec/index.js');\n", /src\/native may import no other folder/],
    ['src/store/blob/fixture.ts', "import { ClusterNode } from '../../node/index.js';\nexport const fixture = ClusterNode;\n", /src\/store may import only/],
    ['src/raft/fixture.ts', "import { LIMITS } from '../limits.js';\nexport const fixture = LIMITS;\n", /src\/raft may import nothing of the project \(not even src\/limits\.ts\)/],
    ['src/rpc/fixture.ts', "import { ClusterNode } from '../node/node.js';\nexport const fixture = ClusterNode;\n", /only through its index\.ts/],
    ['src/cli/commands/fixture.ts', "export const fixture = await import('../../chaos/run.js');\n", /only through its index\.ts/],
    ['src/limits.ts', "import { KvcError } from './errors.js';\nexport const fixture = KvcError;\n", /import nothing of the project/],
  ];
  for (const [filePath, code, message] of wrong) {
    const errors = await layeringErrors(filePath, code);
    t.equal(errors.length, 1, `${filePath}: ${code.split('\n')[0]} is reported once`);
    t.match(errors[0], message, `${filePath}: the message names the rule`);
  }
  const allowed: [string, string][] = [
    ['src/rpc/fixture.ts', "import { ClusterNode } from '../node/index.js';\nimport { LIMITS } from '../limits.js';\nexport const fixture = [ClusterNode, LIMITS];\n"],
    ['src/member/fixture.ts', "import { loadProtos } from '../rpc/index.js';\nexport const fixture = await import('../metrics/index.js').then(() => loadProtos);\n"],
    ['src/store/blob/fixture.ts', "import { crc32c } from '../../codec/index.js';\nimport { familyRange } from '../keys.js';\nexport const fixture = [crc32c, familyRange];\n"],
    ['src/cli/commands/fixture.ts', "import { NEMESIS_NAMES } from '../../chaos/nemesis/types.js';\nexport const fixture = NEMESIS_NAMES;\n"],
  ];
  for (const [filePath, code] of allowed) {
    t.same(await layeringErrors(filePath, code), [], `${filePath}: ${code.split('\n')[0]} passes`);
  }
});

/** `from -> to` for every arrow of a table. */
function arrows(table: Record<string, string[]>): string[] {
  return Object.entries(table).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`)).sort();
}

t.test('the diagram in docs/ARCHITECTURE.md draws exactly LAYERS', async (t) => {
  const doc = await readFile(path.join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Dependency direction'));
  const block = section.slice(section.indexOf('```') + 3, section.indexOf('```', section.indexOf('```') + 3));
  const drawn: Record<string, string[]> = {};
  for (const line of block.split('\n')) {
    // `folder ──► a, b (why), c` or `folder ──► nothing (...)`; other lines are notes.
    const match = /^\s*([a-z]+)\s+──►\s+(.+)$/.exec(line);
    if (!match) continue;
    const targets = match[2]!.replace(/\([^)]*\)/g, '').split(',').map((name) => name.trim());
    drawn[match[1]!] = targets[0] === 'nothing' ? [] : targets;
  }
  t.same(Object.keys(drawn).sort(), Object.keys(LAYERS).sort(), 'one line per folder of LAYERS');
  t.same(arrows(drawn), arrows(LAYERS), 'the same arrows');
  // Drawn top-down, every arrow points to a later line: an order that proves there is no cycle.
  const order = Object.keys(drawn);
  const upwards = arrows(drawn).filter((arrow) => {
    const [from, to] = arrow.split(' -> ');
    return order.indexOf(to!) <= order.indexOf(from!);
  });
  t.same(upwards, [], 'no arrow points up the drawing (no cycle)');
});

/** The relative module specifiers of a source file: static imports, re-exports and dynamic import()s. */
function relativeImports(source: string): string[] {
  const specifiers: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s+'(\.[^']+)'|\bimport\(\s*'(\.[^']+)'\s*\)/g)) {
    specifiers.push((match[1] ?? match[2])!);
  }
  return specifiers;
}

t.test('LAYERS holds every folder of src/ and exactly the arrows the code has', async (t) => {
  const folders = (await readdir(SRC, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
  t.same(folders.sort(), Object.keys(LAYERS).sort(), 'every folder of src/ has a layer');
  const used = new Set<string>();
  const leafImports = new Set<string>();
  const files = (await readdir(SRC, { recursive: true })).filter((file) => file.endsWith('.ts'));
  for (const file of files) {
    const from = file.split(path.sep)[0]!;
    for (const specifier of relativeImports(await readFile(path.join(SRC, file), 'utf8'))) {
      const target = path.relative(SRC, path.resolve(SRC, path.dirname(file), specifier)).split(path.sep);
      if (target.length === 1) leafImports.add(`${from} -> ${target[0]}`);
      else if (target[0] !== from) used.add(`${from} -> ${target[0]}`);
    }
  }
  t.ok(used.size > 30 && leafImports.size > 10, `the sources were read (${files.length} files)`);
  t.same([...used].sort(), arrows(LAYERS), 'each arrow of LAYERS is an import of src/, and each import an arrow');
  const leafFiles = new Set(LEAF_MODULES.map((name) => `${name}.js`));
  const badLeafImports = [...leafImports].filter((arrow) => {
    const [from, to] = arrow.split(' -> ');
    return from === 'raft' || !folders.includes(from!) || !leafFiles.has(to!);
  });
  t.same(badLeafImports, [], 'the leaf modules are imported by folders other than raft, and import nothing');
});
