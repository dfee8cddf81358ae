// Generates the TypeScript types of the kvcache.v1 messages from proto/ into src/proto/generated/
// (`npm run gen:proto`), with @grpc/proto-loader's own proto-loader-gen-types, so that the shapes
// the code reads and writes are those the loader produces at run time. The generator's flags are
// derived from PROTO_LOADER_OPTIONS (src/proto), the options every process loads the protos with;
// an option this script does not know how to pass fails it rather than silently generating types
// for other options. Besides the generator's files it writes index.ts, which re-exports every
// message and enum type, and client-protos.ts: the client's protos (CLIENT_PROTO_FILES) as
// protobufjs JSON, which src/client loads with protobufjs's light build instead of parsing the
// .proto text (and loading @grpc/proto-loader) at every start of a `kvc` call.
//
// `--out DIR` generates elsewhere: test/proto/generated.test.ts regenerates into a temporary
// directory and compares with what is committed, so a .proto change without regenerating fails.
// Run: node --import tsx scripts/gen-proto.ts [--out DIR]

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type * as protoLoader from '@grpc/proto-loader';
import { CLIENT_PROTO_FILES, PROTO_DIR, PROTO_FILES, PROTO_LOADER_OPTIONS } from '../src/proto/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const GENERATOR = path.join(ROOT, 'node_modules', '@grpc', 'proto-loader', 'build', 'bin', 'proto-loader-gen-types.js');
export const GENERATED_DIR = path.join(ROOT, 'src', 'proto', 'generated');
/** The generator takes about a second; this bounds a hung one. */
const TIMEOUT_MS = 60_000;
/** Where the package's message and enum files go: kvcache/v1/<Name>.ts. */
const PACKAGE_DIR = path.join('kvcache', 'v1');

/** The generator's flags for `options`; throws on an option it has no flag for. */
export function generatorFlags(options: protoLoader.Options): string[] {
  const flags: string[] = [];
  for (const [name, value] of Object.entries(options)) {
    switch (name) {
      case 'keepCase':
      case 'defaults':
      case 'arrays':
      case 'objects':
      case 'oneofs':
      case 'json':
        if (value === true) flags.push(`--${name}`);
        break;
      case 'longs':
      case 'enums':
        // The loader takes the constructor (Number, String); the generator its name.
        assert.ok(value === Number || value === String, `${name}: only Number or String can be generated`);
        flags.push(`--${name}=${(value as NumberConstructor | StringConstructor).name}`);
        break;
      case 'includeDirs':
        // Relative to the repository root, so that the "Original file" comments do not name this machine.
        for (const dir of value as string[]) flags.push(`--includeDirs=${path.relative(ROOT, dir) || '.'}`);
        break;
      default:
        throw new Error(`PROTO_LOADER_OPTIONS.${name} has no proto-loader-gen-types flag here; teach scripts/gen-proto.ts`);
    }
  }
  return flags;
}

/** Writes the generated types for PROTO_FILES into `outDir` (emptied first). */
export function generate(outDir: string): void {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  assert.equal(path.relative(ROOT, PROTO_DIR), 'proto');
  const args = [
    GENERATOR,
    ...generatorFlags(PROTO_LOADER_OPTIONS),
    '--includeComments',
    '--grpcLib=@grpc/grpc-js',
    '--importFileExtension=.js',
    `--outDir=${outDir}`,
    ...PROTO_FILES,
  ];
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`proto-loader-gen-types failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  }
  writeFileSync(path.join(outDir, 'index.ts'), indexSource(outDir));
  writeFileSync(path.join(outDir, 'client-protos.ts'), clientProtosSource());
}

/** The parts of protobufjs (the full build, with the .proto parser) that the script uses. */
interface ProtobufFull {
  Root: new () => {
    resolvePath: (origin: string, target: string) => string;
    loadSync(files: string[], options: { keepCase: boolean }): { resolveAll(): { toJSON(): object } };
  };
}

/**
 * client-protos.ts: CLIENT_PROTO_FILES parsed as proto-loader parses them (the same protobufjs,
 * found from @grpc/proto-loader, with its include-path resolution and PROTO_LOADER_OPTIONS.keepCase),
 * written as protobufjs JSON (Root.toJSON).
 */
function clientProtosSource(): string {
  const fromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
  const protobuf = fromLoader('protobufjs') as ProtobufFull;
  const includeDirs = PROTO_LOADER_OPTIONS.includeDirs ?? [];
  const root = new protobuf.Root();
  // As proto-loader's include-path resolver: the first include directory that holds the file.
  root.resolvePath = (_origin, target) => includeDirs.map((dir) => path.join(dir, target)).find((file) => existsSync(file)) ?? target;
  const json = root.loadSync([...CLIENT_PROTO_FILES], { keepCase: PROTO_LOADER_OPTIONS.keepCase === true }).resolveAll().toJSON();
  return [
    '// Generated by scripts/gen-proto.ts (npm run gen:proto) from proto/; do not edit.',
    `// ${CLIENT_PROTO_FILES.join(' and ')} as protobufjs JSON (Root.toJSON), field names as PROTO_LOADER_OPTIONS`,
    "// makes them; src/client loads it with protobufjs's Root.fromJSON instead of parsing the .proto text.",
    `export const CLIENT_PROTOS_JSON: { nested: Record<string, unknown> } = ${JSON.stringify(json, null, 2)};`,
    '',
  ].join('\n');
}

/** index.ts: every message and enum type of the package, in name order. */
function indexSource(outDir: string): string {
  const names = readdirSync(path.join(outDir, PACKAGE_DIR))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => file.slice(0, -'.ts'.length))
    .sort();
  const lines = names.map((name) => `export type * from './${PACKAGE_DIR.split(path.sep).join('/')}/${name}.js';`);
  return `// Generated by scripts/gen-proto.ts (npm run gen:proto) from proto/; do not edit.\n${lines.join('\n')}\n`;
}

/** `gen-proto.ts [--out DIR]`: generates and returns the directory written. */
export function main(args: string[]): string {
  const { values } = parseArgs({ args, options: { out: { type: 'string' } } });
  const outDir = path.resolve(values.out ?? GENERATED_DIR);
  generate(outDir);
  return outDir;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const outDir = main(process.argv.slice(2));
  process.stdout.write(`kvc gen:proto: wrote ${path.relative(process.cwd(), outDir) || '.'}\n`);
}
