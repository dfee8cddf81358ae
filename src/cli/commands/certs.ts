// `kvc certs init|issue`: a development CA and the certificates it signs (../certs.ts), and
// `kvc token create`: a new bearer token with the config entry that grants it (only its sha256
// goes in the config). Each prints what it wrote, or one JSON object with --json. The CA code
// (node-forge) loads only when a certs command runs, so `kvc` itself starts without it.
import { createHash, randomBytes } from 'node:crypto';
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { CliError } from '../cli-error.js';
import { parseMemberId } from '../options.js';
import { printJson, printLine } from '../output.js';

export const DEFAULT_CERTS_DIR = './certs';
const TOKEN_BYTES = 32;
const SCOPE_NAMES = ['read', 'write', 'admin'] as const;
const CLIENT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

interface InitOptions {
  dir: string;
  force?: boolean;
  json?: boolean;
}

interface IssueCommandOptions {
  dir: string;
  member?: number;
  client?: string;
  hosts: string[];
  json?: boolean;
}

interface TokenOptions {
  scopes: string[];
  namespaces: string[];
  name?: string;
  json?: boolean;
}

export function registerCerts(program: Command): void {
  const certs = program.command('certs').description('a development CA and member/client certificates for TLS clusters');
  certs
    .command('init')
    .description('create a CA (ca.pem, ca-key.pem) in --dir')
    .option('--dir <dir>', 'where the CA and certificates live', DEFAULT_CERTS_DIR)
    .option('--force', 'replace an existing CA (certificates it signed stop being trusted)')
    .option('--json', 'print one JSON object {"cert", "key"}')
    .action(async (o: InitOptions) => {
      const { initCaFiles } = await import('../certs.js');
      const files = await initCaFiles(path.resolve(o.dir), o.force ? { force: true } : {}).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(error.code === 'EEXIST' ? `${o.dir} already holds a CA (--force replaces it)` : error.message);
      });
      if (o.json) printJson(files);
      else printLine(`CA certificate: ${files.cert}\nCA key:         ${files.key} (keep it secret)`);
    });
  certs
    .command('issue')
    .description('issue a member certificate (--member ID) or a client certificate (--client NAME) from the CA in --dir')
    .option('--dir <dir>', 'where the CA lives; the certificate is written there', DEFAULT_CERTS_DIR)
    .option('--member <id>', 'a member: names kvc://member/<id> and serves TLS', parseMemberId)
    .option('--client <name>', 'a client: names no member id')
    .option('--hosts <list>', 'addresses clients dial (IPs and DNS names), comma-separated', parseHosts, ['127.0.0.1', '::1', 'localhost'])
    .option('--json', 'print one JSON object {"cert", "key"}')
    .action(async (o: IssueCommandOptions) => {
      if ((o.member === undefined) === (o.client === undefined)) throw new CliError('give exactly one of --member ID and --client NAME');
      if (o.client !== undefined && !CLIENT_NAME_PATTERN.test(o.client)) throw new CliError(`--client: expected 1-64 characters of [A-Za-z0-9._-], got "${o.client}"`);
      const dir = path.resolve(o.dir);
      const name = o.member !== undefined ? `member-${o.member}` : `client-${o.client}`;
      const { issueFiles } = await import('../certs.js');
      const files = await issueFiles(dir, name, {
        commonName: o.member !== undefined ? `kvc member ${o.member}` : `kvc client ${o.client}`,
        ...(o.member !== undefined ? { memberId: o.member, hosts: o.hosts } : {}),
      }).catch((error: NodeJS.ErrnoException) => {
        throw new CliError(error.code === 'ENOENT' ? `no CA in ${o.dir} (run kvc certs init --dir ${o.dir})` : error.message);
      });
      if (o.json) printJson(files);
      else printLine(`certificate: ${files.cert}\nkey:         ${files.key}`);
    });
  program
    .command('token')
    .description('bearer tokens for CacheService and AdminService')
    .command('create')
    .description('make a new random token and print it with the config entry (tokens: [...]) that grants it')
    .option('--scopes <list>', 'comma-separated: read, write, admin', parseScopes, ['read'])
    .option('--namespaces <list>', 'comma-separated namespace names, or * for all', parseList, ['*'])
    .option('--name <label>', 'a label for logs')
    .option('--json', 'print one JSON object {"token", "entry"}')
    .action(async (o: TokenOptions) => {
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      // As src/rpc/auth.ts hashToken (not imported: it would load the server side).
      const sha256 = createHash('sha256').update(token, 'utf8').digest('hex');
      const entry = { ...(o.name === undefined ? {} : { name: o.name }), sha256, scopes: o.scopes, namespaces: o.namespaces };
      if (o.json) return printJson({ token, entry });
      printLine(`token (give it to the client; it is not stored anywhere): ${token}`);
      printLine(`config entry (under tokens:): ${JSON.stringify(entry)}`);
    });
}

function parseList(text: string): string[] {
  const items = [...new Set(text.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list');
  return items;
}

function parseHosts(text: string): string[] {
  const hosts = parseList(text);
  for (const host of hosts) {
    if (!/^[A-Za-z0-9.:-]+$/.test(host)) throw new InvalidArgumentError(`expected IP addresses or DNS names, got "${host}"`);
  }
  return hosts;
}

function parseScopes(text: string): string[] {
  const scopes = parseList(text);
  for (const scope of scopes) {
    if (!(SCOPE_NAMES as readonly string[]).includes(scope)) throw new InvalidArgumentError(`expected scopes among ${SCOPE_NAMES.join(', ')}, got "${scope}"`);
  }
  return scopes;
}
