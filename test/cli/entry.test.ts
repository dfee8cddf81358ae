// Proves how bin/kvc.js picks what to run: the compiled dist/ while no file under src/ is newer
// than dist/BUILD-STAMP (its bundle of the CLI, dist/bundle, when there is one), the TypeScript
// sources through tsx when a source is newer, when there is no stamp, or when KVC_FROM_SOURCE=1. Runs the real bin/kvc.js from a copy in a temp tree
// whose dist/ and src/ entry points only say which one ran; node_modules is linked to ours (tsx).
// Then, when this checkout's dist/ is built and fresh (CI: `npm ci` builds it), the real
// `kvc --version` runs from it.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { bundleCli } from '../../scripts/build-dist.mjs';
import { newestMtimeMs } from '../../scripts/newest-mtime.mjs';
import { childEnv } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function runBin(bin: string, env: NodeJS.ProcessEnv, args: string[] = []): { stdout: string; stderr: string; status: number | null } {
  // childEnv: this child's coverage must not count (it loads every module for --version).
  const envOfChild = childEnv({ KVC_DEBUG_ENTRY: '1', ...env });
  if (env.KVC_FROM_SOURCE === undefined) delete envOfChild.KVC_FROM_SOURCE;
  const result = spawnSync(process.execPath, [bin, ...args], { env: envOfChild, encoding: 'utf8', timeout: 60_000 });
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

t.test('dist/ while it is fresh, src/ otherwise', async (t) => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'kvc-entry-'));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  mkdirSync(path.join(tree, 'bin'));
  mkdirSync(path.join(tree, 'scripts'));
  copyFileSync(path.join(ROOT, 'scripts', 'newest-mtime.mjs'), path.join(tree, 'scripts', 'newest-mtime.mjs'));
  mkdirSync(path.join(tree, 'src', 'cli'), { recursive: true });
  mkdirSync(path.join(tree, 'dist', 'cli'), { recursive: true });
  copyFileSync(path.join(ROOT, 'bin', 'kvc.js'), path.join(tree, 'bin', 'kvc.js'));
  writeFileSync(path.join(tree, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(tree, 'node_modules'));
  const source = path.join(tree, 'src', 'cli', 'main.ts');
  writeFileSync(source, "const from: string = 'src';\nconsole.log(from);\n");
  writeFileSync(path.join(tree, 'dist', 'cli', 'main.js'), "console.log('dist');\n");
  const bin = path.join(tree, 'bin', 'kvc.js');

  const noStamp = runBin(bin, {});
  t.equal(noStamp.stdout, 'src\n', 'no stamp: the sources');
  t.match(noStamp.stderr, /running src\/ through tsx/);

  const old = new Date(Date.now() - 60_000);
  utimesSync(source, old, old);
  writeFileSync(path.join(tree, 'dist', 'BUILD-STAMP'), JSON.stringify({ sourcesMtimeMs: Date.now() - 30_000 }));
  const fresh = runBin(bin, {});
  t.equal(fresh.stdout, 'dist\n', 'sources older than the stamp: dist/');
  t.match(fresh.stderr, /running dist\//);
  t.equal(runBin(bin, { KVC_FROM_SOURCE: '1' }).stdout, 'src\n', 'KVC_FROM_SOURCE=1 forces the sources');

  // The build's bundle of the CLI, when it made one, is preferred to dist/cli/main.js.
  mkdirSync(path.join(tree, 'dist', 'bundle'));
  writeFileSync(path.join(tree, 'dist', 'bundle', 'main.js'), "console.log('bundle');\n");
  const bundled = runBin(bin, {});
  t.equal(bundled.stdout, 'bundle\n', 'fresh, with a bundle: the bundle');
  t.match(bundled.stderr, /running dist\/bundle/);
  t.equal(runBin(bin, { KVC_FROM_SOURCE: '1' }).stdout, 'src\n', 'KVC_FROM_SOURCE=1 still forces the sources');

  utimesSync(source, new Date(), new Date());
  t.equal(runBin(bin, {}).stdout, 'src\n', 'an edited source is never shadowed by stale JavaScript');
});

const stampFile = path.join(ROOT, 'dist', 'BUILD-STAMP');
t.test('this checkout\'s compiled kvc runs', { skip: existsSync(stampFile) ? false : 'dist/ is not built here (npm run build builds it)' }, async (t) => {
  const result = runBin(path.join(ROOT, 'bin', 'kvc.js'), {}, ['--version']);
  t.equal(result.status, 0, result.stderr);
  t.equal(result.stdout, '0.1.0\n');
  if (/running dist\//.test(result.stderr)) t.pass('ran from dist/');
  else t.match(result.stderr, /running src\//, 'a source edited since the build: ran from src/');
});

t.test('the build bundles the CLI: an entry and its imports in a few files, split at dynamic imports', async (t) => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'kvc-bundle-'));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  writeFileSync(path.join(tree, 'package.json'), '{ "type": "module" }\n');
  mkdirSync(path.join(tree, 'src'));
  writeFileSync(path.join(tree, 'src', 'main.js'), "import { a } from './a.js';\nconst { b } = await import('./b.js');\nconsole.log(a + b);\n");
  writeFileSync(path.join(tree, 'src', 'a.js'), "export const a = 'a';\n");
  writeFileSync(path.join(tree, 'src', 'b.js'), "export const b = 'b';\n");
  const out = path.join(tree, 'bundle');
  t.equal(bundleCli(path.join(tree, 'src', 'main.js'), out), true);
  const files = readdirSync(out).sort();
  t.ok(files.includes('main.js') && files.length === 2, `main.js and the dynamically imported part: ${files.join(', ')}`);
  const ran = spawnSync(process.execPath, [path.join(out, 'main.js')], { encoding: 'utf8', timeout: 30_000 });
  t.equal(ran.stdout, 'ab\n', 'the bundle runs as the sources did');
  t.equal(bundleCli(path.join(tree, 'src', 'missing.js'), out), false, 'a failed bundle says so');
  t.notOk(existsSync(out), 'and leaves no half-made bundle behind');
});

t.test('the freshness walk finds the newest file however deep, and only files', async (t) => {
  const tree = mkdtempSync(path.join(os.tmpdir(), 'kvc-walk-'));
  t.teardown(() => rmSync(tree, { recursive: true, force: true }));
  mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
  const at = (file: string, seconds: number): void => {
    writeFileSync(path.join(tree, file), '');
    utimesSync(path.join(tree, file), seconds, seconds);
  };
  at('top.ts', 1_000);
  at(path.join('a', 'mid.ts'), 2_000);
  at(path.join('a', 'b', 'deep.ts'), 3_000);
  utimesSync(path.join(tree, 'a', 'b'), 9_000, 9_000);
  t.equal(newestMtimeMs(tree), 3_000_000, 'the deepest file is the newest; a directory\'s own time does not count');
  t.equal(newestMtimeMs(path.join(tree, 'a', 'b')), 3_000_000);
});
