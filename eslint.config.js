// Lint configuration (ESLint flat config): ESLint's and typescript-eslint's recommended rules on
// the whole tree, and the layers of src/ (docs/ARCHITECTURE.md, "Dependency direction"). Type
// checking itself is `tsc --noEmit` in `npm run lint`, so the rules here stay syntactic and fast.
import eslint from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from 'typescript-eslint';

/**
 * The folders of src/ and the folders each may import: the one table of the layering, drawn in
 * docs/ARCHITECTURE.md (test/lint/layers.test.ts checks that the drawing, this table and the
 * imports of src/ agree). Every folder may also import the leaf modules src/limits.ts,
 * src/errors.ts and src/clock.ts, except src/raft, which imports nothing of the project (the node
 * passes the limits in through RaftConfig). A folder missing here has no layer yet: add it before
 * another folder imports it.
 */
export const LAYERS = {
  raft: [],
  proto: [],
  faults: [],
  io: ['native'],
  native: [],
  config: [],
  bytes: ['native'],
  codec: ['bytes', 'raft'],
  wal: ['codec', 'faults', 'io', 'raft'],
  store: ['codec', 'faults', 'io', 'native'],
  node: ['codec', 'raft', 'store', 'wal'],
  metrics: ['node'],
  tracing: [],
  workers: ['codec', 'native'],
  client: ['bytes', 'native', 'proto'],
  rpc: ['codec', 'config', 'native', 'node', 'proto', 'raft', 'store', 'tracing', 'workers'],
  member: ['client', 'config', 'metrics', 'native', 'node', 'raft', 'rpc', 'store', 'tracing', 'workers'],
  sim: ['raft'],
  chaos: ['client', 'codec', 'config', 'proto', 'sim', 'wal'],
  fuzz: ['client', 'codec', 'config', 'member', 'proto', 'raft', 'rpc', 'sim'],
  cli: ['bytes', 'chaos', 'client', 'config', 'faults', 'member', 'native', 'rpc'],
};

/** The modules directly under src/ that every folder but raft may import; they import nothing of the project. */
export const LEAF_MODULES = ['limits', 'errors', 'clock'];

/**
 * Imports of another folder's file other than its index.ts that are allowed, by importing folder,
 * as paths from src/. `kvc chaos` registers its options from the nemesis names without loading
 * the harness (src/chaos/index.ts loads it all), which it loads only when it runs.
 */
export const PAST_INDEX_ALLOWED = { cli: ['chaos/nemesis/types.js'] };

/** Deepest folder nesting under a src/<folder> that the rules cover (src/cli/commands is 1). */
const NESTING_MAX = 3;

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
// ESLint selectors cannot hold a '/' inside a regular expression: \x2F stands for it there.
const forSelector = (pattern) => pattern.replaceAll('\\/', '\\x2F').replaceAll('/', '\\x2F');

/** Matches a relative import that leaves src/<folder> (from a file `depth` folders below src/) for a folder or leaf module it may not import. */
function wrongLayerPattern(folder, depth) {
  const allowed = [...LAYERS[folder].map((name) => `${escapeRegex(name)}\\/`), ...(folder === 'raft' ? [] : LEAF_MODULES.map((name) => `${escapeRegex(name)}\\.js$`))];
  const lookahead = allowed.length === 0 ? '' : `(?!${allowed.join('|')})`;
  return `^(?:\\.\\.\\/){${depth}}${lookahead}`;
}

/** Matches a relative import of another folder's file other than its index.ts (and the allowed exceptions). */
function pastIndexPattern(folder, depth) {
  const exceptions = (PAST_INDEX_ALLOWED[folder] ?? []).map((path) => `(?!${escapeRegex(path)}$)`).join('');
  return `^(?:\\.\\.\\/){${depth}}${exceptions}[^./][^/]*\\/(?!index\\.js$)`;
}

function layerMessage(folder) {
  const leaves = `the leaf modules ${LEAF_MODULES.map((name) => `src/${name}.ts`).join(', ')}`;
  const allowed =
    folder === 'raft' ? 'nothing of the project (not even src/limits.ts)'
    : LAYERS[folder].length === 0 ? `no other folder, only ${leaves}`
    : `only ${LAYERS[folder].map((name) => `src/${name}`).join(', ')} and ${leaves}`;
  return `layering: src/${folder} may import ${allowed}. The layers are LAYERS in eslint.config.js, drawn in docs/ARCHITECTURE.md.`;
}

const PAST_INDEX_MESSAGE = "layering: import another folder only through its index.ts (CONVENTIONS.md, 'Files and tests').";

/** One config object per folder and nesting depth: a file gets exactly one set of options for each rule. */
function layerRules() {
  const configs = [];
  for (const folder of Object.keys(LAYERS)) {
    for (let depth = 1; depth <= NESTING_MAX; depth++) {
      const wrongLayer = wrongLayerPattern(folder, depth);
      const pastIndex = pastIndexPattern(folder, depth);
      configs.push({
        files: [`src/${folder}/${'*/'.repeat(depth - 1)}*.ts`],
        rules: {
          'no-restricted-imports': [
            'error',
            {
              patterns: [
                { regex: wrongLayer, message: layerMessage(folder) },
                { regex: pastIndex, message: PAST_INDEX_MESSAGE },
              ],
            },
          ],
          // no-restricted-imports sees import and export declarations; a dynamic import() is checked here.
          'no-restricted-syntax': [
            'error',
            { selector: `ImportExpression > Literal.source[value=/${forSelector(wrongLayer)}/]`, message: layerMessage(folder) },
            { selector: `ImportExpression > Literal.source[value=/${forSelector(pastIndex)}/]`, message: PAST_INDEX_MESSAGE },
          ],
        },
      });
    }
  }
  // The leaf modules import nothing of the project.
  const leafFiles = LEAF_MODULES.map((name) => `src/${name}.ts`);
  const leafMessage = 'layering: src/limits.ts, src/errors.ts and src/clock.ts import nothing of the project.';
  configs.push({
    files: leafFiles,
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.', message: leafMessage }] }],
      'no-restricted-syntax': ['error', { selector: 'ImportExpression > Literal.source[value=/^\\./]', message: leafMessage }],
    },
  });
  return configs;
}

export default defineConfig(
  globalIgnores(['node_modules/', '.tap/', 'coverage/', 'build/', 'dist/', 'bench-results/', '.kvc/', '.scratch/']),
  // Written by proto-loader-gen-types (npm run gen:proto), which emits empty interfaces and `any`;
  // tsc still checks these files.
  globalIgnores(['src/proto/generated/']),
  eslint.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // Matches tsc's noUnusedParameters, which accepts a leading underscore for a deliberately unused name.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  ...layerRules(),
);
