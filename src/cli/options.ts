// Option parsing shared by the commands: every value is checked when commander reads it, so a bad
// flag fails as a usage error naming the flag before any connection is made.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseAddress, parseByteSize } from '../config/index.js';

/** The members `kvc dev` starts with its defaults, so the tour's commands need no --endpoints. */
export const DEFAULT_ENDPOINTS = '127.0.0.1:7401,127.0.0.1:7402,127.0.0.1:7403';
/** Deadline of one RPC made by the CLI. */
export const DEFAULT_DEADLINE_MS = 10_000;
const DEADLINE_MS_MAX = 10 * 60 * 1000;
const HEX_PATTERN = /^(?:[0-9a-fA-F]{2})+$/;
/** Dimensions of a page's shape (layers, heads, tokens, head size and the like). */
const SHAPE_DIMENSIONS_MAX = 8;

export interface ConnectionOptions {
  endpoints: string[];
  token?: string;
  /** PEM files: the cluster CA, and a client certificate and key (TLS clusters). */
  ca?: string;
  cert?: string;
  /** `--cert-key`: `--key` is the page key of kvc put/get. */
  certKey?: string;
  deadlineMs: number;
  json?: boolean;
}

/** A parser for an integer flag in [min, max]. */
export function integerIn(min: number, max: number): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`expected an integer ${min}..${max}, got "${text}"`);
    }
    return value;
  };
}

/** A member id: a positive integer, also accepted as `n<id>` (how data dirs and logs name it). */
export function parseMemberId(text: string): number {
  const digits = /^n?(\d+)$/.exec(text.trim())?.[1];
  const id = Number(digits);
  if (digits === undefined || !Number.isSafeInteger(id) || id < 1) throw new InvalidArgumentError(`expected a member id such as 2 or n2, got "${text}"`);
  return id;
}

export function parseEndpoints(text: string): string[] {
  const endpoints = text
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  if (endpoints.length === 0) throw new InvalidArgumentError('expected host:port[,host:port...]');
  for (const endpoint of endpoints) {
    if (!parseAddress(endpoint)) throw new InvalidArgumentError(`expected host:port, got "${endpoint}"`);
  }
  return [...new Set(endpoints)];
}

/** One member's host:port (the --endpoint of commands that ask one member only). */
export function parseEndpoint(text: string): string {
  if (!parseAddress(text.trim())) throw new InvalidArgumentError(`expected host:port, got "${text}"`);
  return text.trim();
}

/** A byte size such as 4294967296 or 64MiB (the config file's notation). */
export function parseSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined) throw new InvalidArgumentError(`expected a size such as 1073741824 or 64MiB, got "${text}"`);
  return bytes;
}

export function parseHex(text: string): Uint8Array {
  const trimmed = text.trim().replace(/^0x/i, '');
  if (!HEX_PATTERN.test(trimmed)) throw new InvalidArgumentError(`expected hex bytes (an even number of 0-9a-f), got "${text}"`);
  return new Uint8Array(Buffer.from(trimmed, 'hex'));
}

export function parseHexList(text: string): Uint8Array[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parseHex);
}

export function parseShape(text: string): number[] {
  const dims = text.split(',').map((part) => part.trim());
  if (dims.length === 0 || dims.length > SHAPE_DIMENSIONS_MAX || dims.some((d) => !/^\d+$/.test(d) || Number(d) < 1)) {
    throw new InvalidArgumentError(`expected 1-${SHAPE_DIMENSIONS_MAX} positive integers separated by commas, got "${text}"`);
  }
  return dims.map(Number);
}

/** --endpoints, --token, --ca/--cert/--cert-key, --deadline-ms and --json: what every command that talks to a cluster takes. */
export function addConnectionOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--endpoints <list>', 'members to contact, host:port[,host:port...]')
        .env('KVC_ENDPOINTS')
        .default(parseEndpoints(DEFAULT_ENDPOINTS), DEFAULT_ENDPOINTS)
        .argParser(parseEndpoints),
    )
    .addOption(new Option('--token <token>', 'bearer token sent on every call (tokens, or the admin token)').env('KVC_TOKEN'))
    .addOption(new Option('--ca <file>', 'PEM of the cluster CA: connect over TLS').env('KVC_CA'))
    .addOption(new Option('--cert <file>', 'PEM of a client certificate (with --cert-key)').env('KVC_CERT'))
    .addOption(new Option('--cert-key <file>', "PEM of the client certificate's private key").env('KVC_CERT_KEY'))
    .addOption(
      new Option('--deadline-ms <ms>', 'deadline of each call').default(DEFAULT_DEADLINE_MS).argParser(integerIn(1, DEADLINE_MS_MAX)),
    )
    .option('--json', 'print one JSON document on stdout');
}
