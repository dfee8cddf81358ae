// The TypeScript loader of the test processes (registered by ./register.mjs through package.json
// "tap"."node-arg"). Each .ts file is stripped of its types by esbuild as it loads, with an inline
// source map, so tap's V8 coverage maps back to the .ts lines. It replaces tap's own TypeScript
// plugin in the test processes ("test-env": TAP_TYPE_STRIP_ONLY=1 leaves that plugin's ts-node
// hook idle there): ts-node loads the TypeScript compiler in both the main and the hooks thread of
// every test file, about 1 s of CPU per file. Not tsx: it minifies whitespace and its source maps
// do not reach V8 coverage (docs/ARCHITECTURE.md). esbuild is the one tsx uses.
import { readFile } from 'node:fs/promises';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { transform } from 'esbuild';

const TARGET = `node${process.versions.node}`;
/** The options of tsconfig.json that change emitted JavaScript (target ES2023 implies the first). */
const TSCONFIG_RAW = { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: true } };

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    // NodeNext style: `./x.js` in TypeScript source names `./x.ts`.
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && /^\.{1,2}\/.*\.js$/.test(specifier)) {
      return next(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw error;
  }
}

export async function load(url, context, next) {
  if (!url.startsWith('file:') || !/\.ts(\?|$)/.test(url)) return next(url, context);
  const file = fileURLToPath(url);
  const { code } = await transform(await readFile(file, 'utf8'), {
    loader: 'ts',
    format: 'esm',
    target: TARGET,
    sourcemap: 'inline',
    sourcefile: file,
    tsconfigRaw: TSCONFIG_RAW,
  });
  return { format: 'module', source: code, shortCircuit: true };
}
