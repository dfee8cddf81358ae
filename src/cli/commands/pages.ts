// `kvc put`, `kvc get`, `kvc lookup`: one namespace's pages from and to files, for debugging and
// for trying the cluster by hand; `kvc delete`, `kvc pin`, `kvc unpin`: the writes that take a
// list of keys. Keys are hex on the command line (the client library's hashBlocks makes real ones).
import { open, stat, writeFile } from 'node:fs/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Dtype } from '../../bytes/index.js';
import { formatBytes } from '../../config/index.js';
import { LIMITS } from '../../limits.js';
import type { PageInput } from '../../client/index.js';
import { CliError } from '../cli-error.js';
import { withClient } from '../connect.js';
import { addConnectionOptions, integerIn, parseHex, parseHexList, parseShape, type ConnectionOptions } from '../options.js';
import { printJson, printLine, printOutcome, toHex } from '../output.js';

/** Tokens a page covers unless --tokens says otherwise (one block of a typical paged KV cache). */
const DEFAULT_PAGE_TOKENS = 16;
const TOKENS_MAX = 1 << 20;
const TTL_MS_MAX = 365 * 24 * 3600 * 1000;
/**
 * The widest --lease-ms the CLI reads. The member's own limit (LIMITS.eviction.leaseMsMax) is
 * checked by the member, which answers KVC_INVALID_ARGUMENT: it, not this process, is the
 * authority on what it grants.
 */
const LEASE_MS_PARSE_MAX = 24 * 3600 * 1000;

interface PutOptions extends ConnectionOptions {
  ns: string;
  key: Uint8Array;
  file: string;
  dtype: Dtype;
  shape?: number[];
  storeDtype?: Dtype;
  tokens: number;
  parent?: Uint8Array;
  ttlMs?: number;
}

interface GetOptions extends ConnectionOptions {
  ns: string;
  key: Uint8Array;
  out: string;
  as?: Dtype;
  layers?: [number, number];
}

interface KeysOptions extends ConnectionOptions {
  ns: string;
  keys: Uint8Array[];
}

interface LookupOptions extends KeysOptions {
  linearizable?: boolean;
  leaseMs?: number;
}

interface PinOptions extends KeysOptions {
  ttlMs: number;
}

function dtypeOption(flags: string, description: string, choices: Dtype[]): Option {
  return new Option(flags, description).choices(choices);
}

function parseLayers(text: string): [number, number] {
  const match = /^(\d+):(\d+)$/.exec(text.trim());
  if (!match || Number(match[1]) >= Number(match[2])) throw new InvalidArgumentError(`expected BEGIN:END with BEGIN < END, got "${text}"`);
  return [Number(match[1]), Number(match[2])];
}

export function registerPages(program: Command): void {
  addConnectionOptions(program.command('put').description('store the bytes of a file as one page'))
    .requiredOption('--ns <namespace>', 'namespace of the page')
    .requiredOption('--key <hex>', 'page key, 8-64 bytes in hex', parseHex)
    .requiredOption('--file <file>', 'file holding the page payload')
    .addOption(dtypeOption('--dtype <dtype>', 'element type of the payload', ['fp16', 'fp32', 'bf16', 'u8']).default('u8'))
    .option('--shape <a,b,...>', 'layer-major tensor shape (default: one dimension of all elements)', parseShape)
    .addOption(dtypeOption('--store-dtype <dtype>', 'store the payload converted to this dtype', ['fp16']))
    .option('--tokens <n>', 'tokens the page covers', integerIn(0, TOKENS_MAX), DEFAULT_PAGE_TOKENS)
    .option('--parent <hex>', 'key of the previous block of the prefix', parseHex)
    .option('--ttl-ms <ms>', 'time to live (default: none)', integerIn(0, TTL_MS_MAX))
    .action((o: PutOptions) => put(o));
  addConnectionOptions(program.command('get').description('fetch one page into a file'))
    .requiredOption('--ns <namespace>', 'namespace of the page')
    .requiredOption('--key <hex>', 'page key in hex', parseHex)
    .requiredOption('--out <file>', 'file to write the payload to')
    .addOption(dtypeOption('--as <dtype>', 'return the payload converted to this dtype', ['fp16', 'fp32']))
    .option('--layers <begin:end>', 'only layers [begin, end) of shape[0]', parseLayers)
    .action((o: GetOptions) => get(o));
  keysCommand(program, 'lookup', 'how many leading keys are cached', 'chained keys of one prompt, in order')
    .option('--linearizable', 'confirm with the leader first (one round trip)')
    .option('--lease-ms <ms>', 'protect the matched pages from eviction this long (the member caps it)', integerIn(0, LEASE_MS_PARSE_MAX))
    .action((o: LookupOptions) => lookup(o));
  keysCommand(program, 'delete', 'delete pages (absent ones are no error)').action((o: KeysOptions) => removePages(o));
  keysCommand(program, 'pin', 'protect pages from eviction for a while')
    .requiredOption('--ttl-ms <ms>', 'how long the pin lasts', integerIn(1, LIMITS.eviction.pinTtlMsMax))
    .action((o: PinOptions) => pin(o));
  keysCommand(program, 'unpin', 'end the pins of pages early').action((o: KeysOptions) => unpin(o));
}

/** A command over a list of one namespace's keys: connection options, --ns and --keys. */
function keysCommand(program: Command, name: string, description: string, keysHelp = 'page keys'): Command {
  return addConnectionOptions(program.command(name).description(description))
    .requiredOption('--ns <namespace>', 'namespace of the pages')
    .requiredOption('--keys <hex,hex,...>', `${keysHelp}, in hex`, parseHexList);
}

function requireKeys(o: KeysOptions): void {
  if (o.keys.length === 0) throw new CliError('--keys: expected at least one key');
}

async function put(o: PutOptions): Promise<void> {
  // Loaded here: `kvc` does not need the checksum and dtype helpers (nor the addon) to start.
  const { crc32c, dtypeBytes } = await import('../../bytes/index.js');
  const data = await readPayload(o.file);
  const elementBytes = dtypeBytes(o.dtype);
  if (data.byteLength % elementBytes !== 0) {
    throw new CliError(`${o.file} is ${data.byteLength} bytes, not a whole number of ${o.dtype} elements (${elementBytes} bytes each)`);
  }
  const shape = o.shape ?? [data.byteLength / elementBytes];
  const meta: PageInput['meta'] = { namespace: o.ns, key: o.key, dtype: o.dtype, shape, tokens: o.tokens };
  if (o.parent) meta.parentKey = o.parent;
  if (o.ttlMs !== undefined) meta.ttlMs = o.ttlMs;
  if (o.storeDtype) meta.storeDtype = o.storeDtype;
  const [outcome] = await withClient(o, (client) => client.putPages([{ meta, data }]));
  if (!outcome) throw new CliError('the cluster returned no result for the page');
  if (outcome.code !== '') throw new CliError(`${outcome.code}: ${outcome.message}`);
  const checksum = crc32c(data);
  if (o.json) return printJson({ namespace: o.ns, key: toHex(o.key), bytes: data.byteLength, crc32c: checksum, dtype: o.dtype, shape });
  printLine(`stored ${o.ns}/${toHex(o.key)}: ${formatBytes(data.byteLength)} ${o.dtype} [${shape.join(', ')}] crc32c ${hex32(checksum)}`);
}

async function get(o: GetOptions): Promise<void> {
  const options = { ...(o.as ? { asDtype: o.as } : {}), ...(o.layers ? { layerBegin: o.layers[0], layerEnd: o.layers[1] } : {}) };
  const page = await withClient(o, async (client) => {
    for await (const received of client.getPages(o.ns, [o.key], options)) return received;
    return undefined;
  });
  if (!page) throw new CliError(`KVC_NOT_FOUND: no page ${o.ns}/${toHex(o.key)}`);
  await writeFile(o.out, page.data);
  const { meta } = page;
  if (o.json) {
    const { key: _key, parentKey, ...rest } = meta;
    return printJson({ ...rest, key: toHex(o.key), ...(parentKey ? { parentKey: toHex(parentKey) } : {}), out: o.out });
  }
  printLine(`wrote ${formatBytes(meta.bytes)} to ${o.out}: ${meta.dtype} [${meta.shape.join(', ')}], ${meta.tokens} tokens, crc32c ${hex32(meta.crc32c)}`);
}

async function lookup(o: LookupOptions): Promise<void> {
  requireKeys(o);
  const options = { linearizable: o.linearizable === true, ...(o.leaseMs === undefined ? {} : { leaseMs: o.leaseMs }) };
  const matched = await withClient(o, (client) => client.lookup(o.ns, o.keys, options));
  if (o.json) return printJson({ matched });
  const lease = o.leaseMs ? `, leased for ${o.leaseMs} ms` : '';
  printLine(`matched ${matched} of ${o.keys.length} keys${lease}`);
}

async function removePages(o: KeysOptions): Promise<void> {
  requireKeys(o);
  await withClient(o, (client) => client.deletePages(o.ns, o.keys));
  printOutcome(o.json, { namespace: o.ns, deleted: o.keys.map(toHex) }, `deleted ${o.keys.length} key(s) from ${o.ns}`);
}

async function pin(o: PinOptions): Promise<void> {
  requireKeys(o);
  await withClient(o, (client) => client.pinPages(o.ns, o.keys, o.ttlMs));
  printOutcome(o.json, { namespace: o.ns, pinned: o.keys.map(toHex), ttlMs: o.ttlMs }, `pinned ${o.keys.length} key(s) of ${o.ns} for ${o.ttlMs} ms`);
}

async function unpin(o: KeysOptions): Promise<void> {
  requireKeys(o);
  await withClient(o, (client) => client.unpinPages(o.ns, o.keys));
  printOutcome(o.json, { namespace: o.ns, unpinned: o.keys.map(toHex) }, `unpinned ${o.keys.length} key(s) of ${o.ns}`);
}

/** Reads a page payload, refusing a file larger than a page before reading it into memory. */
async function readPayload(file: string): Promise<Uint8Array> {
  const info = await stat(file).catch((error: NodeJS.ErrnoException) => {
    throw new CliError(`cannot read ${file} (${error.code ?? error.message})`);
  });
  if (!info.isFile()) throw new CliError(`${file} is not a file`);
  if (info.size > LIMITS.page.bytesMax) {
    throw new CliError(`${file} is ${formatBytes(info.size)}, over the page limit of ${formatBytes(LIMITS.page.bytesMax)}`);
  }
  const handle = await open(file, 'r');
  try {
    return new Uint8Array(await handle.readFile());
  } finally {
    await handle.close();
  }
}

function hex32(value: number): string {
  return `0x${(value >>> 0).toString(16).padStart(8, '0')}`;
}
