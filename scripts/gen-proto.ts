// Generates the TypeScript types of the kvcache.v1 messages from proto/ into src/proto/generated/
// (`npm run gen:proto`), with @grpc/proto-loader's own proto-loader-gen-types, so that the shapes
// the code reads and writes are those the loader produces at run time. The generator's flags are
// derived from PROTO_LOADER_OPTIONS (src/proto), the options every process loads the protos with;
// an option this script does not know how to pass fails it rather than silently generating types
// for other options. Besides the generator's files it writes index.ts, which re-exports every
// message and enum type, and client-codec.ts: the client's messages (CLIENT_PROTO_FILES) as
// protobufjs static code (protobufjs-cli's pbjs, `-t static-module`) wrapped in a function that
// takes protobufjs's minimal build, and the client's services as a table of request and response
// type names. src/client runs that code instead of parsing the .proto text or building types by
// reflection (and generating their encoders by `new Function`) at every start of a `kvc` call.
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
const PBJS = path.join(ROOT, 'node_modules', 'protobufjs-cli', 'bin', 'pbjs');
export const GENERATED_DIR = path.join(ROOT, 'src', 'proto', 'generated');
/** The generator takes about a second; this bounds a hung one. */
const TIMEOUT_MS = 60_000;
/** pbjs writes its static code (~0.5 MB) to stdout. */
const OUTPUT_BYTES_MAX = 64 * 1024 * 1024;
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
  runGenerator('proto-loader-gen-types', args);
  writeFileSync(path.join(outDir, 'index.ts'), indexSource(outDir));
  writeFileSync(path.join(outDir, 'client-codec.ts'), clientCodecSource());
}

/** The parts of protobufjs (the full build, with the .proto parser) that the script uses. */
interface ProtobufFull {
  Root: new () => {
    resolvePath: (origin: string, target: string) => string;
    loadSync(files: string[], options: { keepCase: boolean }): { resolveAll(): ReflectedRoot };
  };
}
interface ReflectedType {
  fullName: string;
  fieldsArray?: { resolvedType: ReflectedType | null }[];
}
interface ReflectedRoot {
  lookupService(name: string): { methodsArray: { name: string; resolvedRequestType: ReflectedType | null; resolvedResponseType: ReflectedType | null }[] };
}

/** The client's services (src/client calls every method of these); the generated CLIENT_SERVICES table is keyed by them. */
const CLIENT_SERVICE_NAMES = ['kvcache.v1.CacheService', 'kvcache.v1.AdminService'] as const;
/** The package every client message lives in: the static code's namespace handed to the client. */
const CLIENT_PACKAGE = 'kvcache.v1';

/** pbjs's output for CLIENT_PROTO_FILES: static encode/decode/fromObject/toObject per message, nothing else. */
function pbjsStaticCode(): string {
  assert.equal(PROTO_LOADER_OPTIONS.keepCase, false, 'pbjs converts field names to camelCase as the loader does with keepCase false');
  const args = [
    PBJS,
    '--target=static-module',
    '--wrap=commonjs',
    '--no-comments',
    '--no-beautify',
    '--no-create',
    '--no-verify',
    '--no-delimited',
    '--no-service',
    '--no-typeurl',
    ...(PROTO_LOADER_OPTIONS.includeDirs ?? []).map((dir) => `--path=${path.relative(ROOT, dir)}`),
    ...CLIENT_PROTO_FILES.map((file) => path.join(path.relative(ROOT, PROTO_DIR), file)),
  ];
  return runGenerator('pbjs', args);
}

/** Runs a generator script (`args[0]`) with this Node from the repository root; its stdout, or a throw saying why it failed. */
function runGenerator(name: string, args: string[]): string {
  const result = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: TIMEOUT_MS, maxBuffer: OUTPUT_BYTES_MAX });
  if (result.error !== undefined || result.status !== 0) throw new Error(`${name} failed (${result.error?.message ?? `exit ${result.status}`}): ${result.stderr}`);
  return result.stdout;
}

/** The client's services as proto-loader resolves them (the same protobufjs, found from @grpc/proto-loader, with its include-path resolution). */
function clientReflection(): ReflectedRoot {
  const fromLoader = createRequire(createRequire(import.meta.url).resolve('@grpc/proto-loader'));
  const protobuf = fromLoader('protobufjs') as ProtobufFull;
  const includeDirs = PROTO_LOADER_OPTIONS.includeDirs ?? [];
  const root = new protobuf.Root();
  // As proto-loader's include-path resolver: the first include directory that holds the file.
  root.resolvePath = (_origin, target) => includeDirs.map((dir) => path.join(dir, target)).find((file) => existsSync(file)) ?? target;
  return root.loadSync([...CLIENT_PROTO_FILES], { keepCase: PROTO_LOADER_OPTIONS.keepCase === true }).resolveAll();
}

/** A client message's name in the static code (kvcache.v1.X -> X). */
function localName(type: { fullName: string } | null): string {
  assert.ok(type !== null && type.fullName.startsWith(`.${CLIENT_PACKAGE}.`), `a client RPC's types live in ${CLIENT_PACKAGE}`);
  return type.fullName.slice(CLIENT_PACKAGE.length + 2);
}

/** Each client RPC's request and response message names, by service and method. */
function clientServiceTable(root: ReflectedRoot): Record<string, Record<string, [string, string]>> {
  return Object.fromEntries(
    CLIENT_SERVICE_NAMES.map((service) => [
      service,
      Object.fromEntries(root.lookupService(service).methodsArray.map((m) => [m.name, [localName(m.resolvedRequestType), localName(m.resolvedResponseType)]])),
    ]),
  );
}

/**
 * Which functions of each message's static code the client runs: encode and fromObject for the
 * messages a request holds (the request types and every message type under their fields), decode
 * and toObject for those a response holds. Enums have no functions.
 */
function clientDirections(root: ReflectedRoot): Map<string, Set<string>> {
  const directions = new Map<string, Set<string>>();
  const visit = (type: ReflectedType | null, functions: readonly string[]): void => {
    if (type === null || type.fieldsArray === undefined) return;
    const name = localName(type);
    const kept = directions.get(name) ?? new Set<string>();
    if (functions.every((fn) => kept.has(fn))) return;
    directions.set(name, kept);
    for (const fn of functions) kept.add(fn);
    for (const field of type.fieldsArray) visit(field.resolvedType, functions);
  };
  for (const service of CLIENT_SERVICE_NAMES) {
    for (const method of root.lookupService(service).methodsArray) {
      visit(method.resolvedRequestType, ['encode', 'fromObject']);
      visit(method.resolvedResponseType, ['decode', 'toObject']);
    }
  }
  return directions;
}

/** pbjs's per-message functions, one match each: `Name.fn = function fn(` to its closing `};` (both at the messages' indentation). */
const MESSAGE_FUNCTION = /^( +)(\w+)\.(encode|decode|fromObject|toObject) = function \3\([\s\S]*?\n\1\};\n/gm;

/** `code` without the message functions the client never runs (a request type's decoder, a response type's encoder). */
function withoutUnusedFunctions(code: string, directions: Map<string, Set<string>>): string {
  let removed = 0;
  const pruned = code.replace(MESSAGE_FUNCTION, (whole: string, _indent: string, type: string, fn: string) => {
    if (directions.get(type)?.has(fn) === true) return whole;
    removed++;
    return '';
  });
  assert.ok(removed > 0, "pbjs's message functions were found (the pattern still matches its output)");
  return pruned;
}

/**
 * client-codec.ts: pbjs's static code for CLIENT_PROTO_FILES, its `require("protobufjs/minimal")`
 * replaced by a parameter (src/client hands in the copy @grpc/proto-loader uses) and its global
 * root registry by a root of its own, plus the client's service table.
 */
function clientCodecSource(): string {
  const code = pbjsStaticCode();
  const head = 'var $protobuf = require("protobufjs/minimal");';
  const rootLine = 'var $root = $protobuf.roots["default"] || ($protobuf.roots["default"] = {});';
  const tail = 'module.exports = $root;';
  assert.ok(code.includes(head) && code.includes(rootLine) && code.trimEnd().endsWith(tail), 'pbjs wrote the commonjs module this script knows how to wrap');
  const root = clientReflection();
  // Every `kvc` call parses this code: what the client never runs (about half) is left out.
  const body = withoutUnusedFunctions(code.slice(code.indexOf(head) + head.length, code.lastIndexOf(tail)), clientDirections(root))
    .replace(rootLine, 'var $root = {};')
    .trim();
  return [
    '// Generated by scripts/gen-proto.ts (npm run gen:proto) from proto/ with protobufjs-cli\'s pbjs; do not edit.',
    `// ${CLIENT_PROTO_FILES.join(' and ')} as protobufjs static code (encode and fromObject for what requests hold,`,
    "// decode and toObject for what responses hold; field names as PROTO_LOADER_OPTIONS makes them), which src/client runs instead of parsing .proto",
    '// text or generating the same functions by reflection at every start of a `kvc` call.',
    '// @ts-nocheck',
    '',
    '/** The messages of the client\'s package, built on `$protobuf` (protobufjs\'s minimal build). */',
    `export function clientMessageTypes($protobuf: unknown): Record<string, unknown> {`,
    body,
    `return $root.${CLIENT_PACKAGE};`,
    '}',
    '',
    '/** Each client RPC\'s [request, response] message names, by service and method. */',
    `export const CLIENT_SERVICES: Record<string, Record<string, [string, string]>> = ${JSON.stringify(clientServiceTable(root), null, 2)};`,
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
