// `kvc dev`: a local cluster of real member processes with one command. It writes an embedded
// config for N members on consecutive loopback ports into the data dir, spawns one `kvc start`
// child per member, waits until they agree on a leader, prints the endpoints, and then watches
// the children until Ctrl-C/SIGTERM stops them all. Data in the dir is reused, so a restart keeps
// the pages; the written config lets an operator restart one member by hand
// (`kvc start --config <dir>/cluster.yaml --id N`).
//
// With --tls the cluster serves TLS and its members talk over mutual TLS: a fresh dev CA, member
// certificates and a client certificate go to <dir>/certs on every start, and a fresh token with
// read, write and admin scopes on every namespace is configured (only its sha256 is written).
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { devClusterConfig, isConfigError, loadClusterConfig, renderClusterConfig, MEMBERS_MAX, type ClusterConfig } from '../../config/index.js';
import { CliError, EXIT_FAILURE } from '../cli-error.js';
import { LOG_LEVELS, type LogLevel } from '../log-options.js';
import { integerIn } from '../options.js';
import { printJson, printLine, renderTable } from '../output.js';
import { StopSignal, unlessStopped } from '../stop-signal.js';
import { KVC_BIN, Supervisor, describeExit } from '../supervisor.js';
import { waitForLeader } from '../cluster-status.js';
import type { ClientAccess } from '../connect.js';

export const DEV_DEFAULT_NODES = 3;
export const DEV_DEFAULT_BASE_PORT = 7401;
export const DEV_DEFAULT_DIR = './.kvc/dev';
const DEV_CONFIG_FILE = 'cluster.yaml';
/** Starting a member process (loading the TypeScript sources, opening WAL and store) takes seconds. */
const READY_TIMEOUT_MS = 60_000;
/** An election takes one to two election timeouts (0.5-1 s by default); this leaves ample room. */
const LEADER_TIMEOUT_MS = 30_000;
/** SIGTERM → SIGKILL grace: a member's clean stop takes well under a second. */
export const STOP_GRACE_MS = 10_000;
const PORT_MAX = 65_535;
const DEV_CERTS_DIR = 'certs';
const DEV_TOKEN_BYTES = 32;

interface DevOptions {
  nodes: number;
  dir: string;
  basePort: number;
  json?: boolean;
  logLevel: LogLevel;
  tls?: boolean;
}

/** What a client of a `kvc dev --tls` cluster needs: the dev CA, a client certificate and key, a token. */
interface DevCredentials {
  ca: string;
  clientCert: string;
  clientKey: string;
  token: string;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('run a local cluster of real member processes until Ctrl-C')
    .option('--nodes <n>', 'number of members', integerIn(1, MEMBERS_MAX), DEV_DEFAULT_NODES)
    .option('--dir <dir>', 'data dir (reused: a restart keeps the pages)', DEV_DEFAULT_DIR)
    .option('--base-port <port>', 'port of member 1; member N listens on base+N-1', integerIn(1, PORT_MAX), DEV_DEFAULT_BASE_PORT)
    .option('--json', 'print one JSON line {"endpoints": [...], "pids": [...]} once there is a leader')
    .option('--tls', 'serve TLS, mutual TLS between members, a dev CA and a token (--json adds ca, clientCert, clientKey, token)')
    .addOption(new Option('--log-level <level>', "the members' lowest level logged").choices(LOG_LEVELS).default('info'))
    .action(async (o: DevOptions) => {
      if (o.basePort + o.nodes - 1 > PORT_MAX) throw new CliError(`--base-port ${o.basePort} leaves no room for ${o.nodes} ports`);
      await runDev(o);
    });
}

async function runDev(o: DevOptions): Promise<void> {
  const dir = path.resolve(o.dir);
  const config = devClusterConfig({ nodes: o.nodes, basePort: o.basePort, dataDir: dir });
  const credentials = o.tls ? await secureDevCluster(config, dir) : undefined;
  const configFile = await writeDevConfig(dir, config);
  await assertPortsFree(config);
  const supervisor = new Supervisor();
  // A second Ctrl-C while the members stop means "now".
  const stop = new StopSignal({
    onRepeat: () => {
      supervisor.killAllSync();
      process.exit(EXIT_FAILURE);
    },
  });
  const killLeftovers = (): void => supervisor.killAllSync();
  process.on('exit', killLeftovers);
  let up = false;
  supervisor.onUnexpectedExit = (child, exit) => {
    process.stderr.write(`kvc dev: member ${child.id} (pid ${child.pid}) exited unexpectedly ${describeExit(exit)}\n`);
    // Before the cluster is up, startup() reports the failed member itself.
    if (up && supervisor.live().length === 0) stop.trigger('every member exited');
  };
  try {
    for (const member of config.members) {
      // Readable lines on a terminal, JSON lines otherwise (a member's own KVC_LOG_FORMAT wins).
      const format = process.env.KVC_LOG_FORMAT ?? (process.stderr.isTTY ? 'pretty' : 'json');
      const args = [KVC_BIN, 'start', '--config', configFile, '--id', String(member.id), '--log-level', o.logLevel, '--log-format', format];
      supervisor.spawn({ id: member.id, command: process.execPath, args });
    }
    await startup(supervisor, stop, config, configFile, o.json === true, credentials);
    up = true;
    const reason = await stop.promise;
    process.stderr.write(`kvc dev: ${reason}: stopping ${supervisor.live().length} member(s)\n`);
    if (reason === 'every member exited') process.exitCode = 1;
  } catch (error) {
    if (stop.triggered) throw new CliError(`interrupted (${await stop.promise}) before the cluster was up`);
    throw error;
  } finally {
    stop.trigger('stopping'); // So that a later signal counts as a repeat, even after a failure.
    await supervisor.stopAll(STOP_GRACE_MS);
    stop.dispose();
    process.off('exit', killLeftovers);
  }
}

async function startup(
  supervisor: Supervisor,
  stop: StopSignal,
  config: ClusterConfig,
  configFile: string,
  json: boolean,
  credentials: DevCredentials | undefined,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CliError(`members not ready within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
  });
  const ready = Promise.all(supervisor.children.map((c) => c.ready)).catch((error: Error) => {
    throw new CliError(`${error.message}; its log is above`);
  });
  try {
    await unlessStopped(Promise.race([ready, timedOut]), stop);
  } finally {
    clearTimeout(timer);
  }
  const endpoints = config.members.map((m) => m.address);
  const access = credentials === undefined ? {} : await devClientAccess(credentials);
  const leader = await unlessStopped(waitForLeader(endpoints, LEADER_TIMEOUT_MS, stop.signal, access), stop);
  const pids = supervisor.children.map((c) => c.pid);
  if (json) {
    printJson({ endpoints, pids, leader, dataDir: config.dataDir, config: configFile, ...credentials });
    return;
  }
  printLine(`kvc dev: ${config.members.length}-member cluster is up, leader is member ${leader}`);
  printLine();
  const rows = supervisor.children.map((c) => [String(c.id), endpoints[c.id - 1]!, String(c.pid), c.id === leader ? 'leader' : 'follower']);
  printLine(renderTable([{ header: 'ID', align: 'right' }, { header: 'ADDRESS' }, { header: 'PID', align: 'right' }, { header: 'ROLE' }], rows));
  printLine();
  printLine(`data:   ${config.dataDir}`);
  printLine(`config: ${configFile}`);
  const flags = credentials === undefined ? '' : ` --ca ${credentials.ca} --token ${credentials.token}`;
  if (credentials !== undefined) printLine(`client: --cert ${credentials.clientCert} --cert-key ${credentials.clientKey} (a client certificate, optional)`);
  printLine(`try:    kvc status --endpoints ${endpoints.join(',')}${flags}`);
  printLine('Ctrl-C stops the cluster.');
}

/**
 * Turns the dev config into a TLS one: a new CA, a certificate per member (naming its id and the
 * loopback addresses), a client certificate, and one token with every scope on every namespace.
 */
async function secureDevCluster(config: ClusterConfig, dir: string): Promise<DevCredentials> {
  // Loaded only for --tls: node-forge is not needed otherwise.
  const { initCaFiles, issueFiles } = await import('../certs.js');
  const certs = path.join(dir, DEV_CERTS_DIR);
  const ca = await initCaFiles(certs, { force: true, commonName: 'kvc dev CA' });
  for (const member of config.members) {
    const host = member.address.slice(0, member.address.lastIndexOf(':'));
    await issueFiles(certs, `member-${member.id}`, { commonName: `kvc member ${member.id}`, memberId: member.id, hosts: [...new Set([host, '127.0.0.1', '::1', 'localhost'])] });
  }
  const client = await issueFiles(certs, 'client-dev', { commonName: 'kvc client dev' });
  const token = randomBytes(DEV_TOKEN_BYTES).toString('base64url');
  config.tls = { mode: 'tls', ca: ca.cert, cert: path.join(certs, 'member-{id}.pem'), key: path.join(certs, 'member-{id}-key.pem') };
  config.tokens = [{ name: 'dev', sha256: createHash('sha256').update(token, 'utf8').digest('hex'), scopes: ['read', 'write', 'admin'], namespaces: ['*'] }];
  return { ca: ca.cert, clientCert: client.cert, clientKey: client.key, token };
}

async function devClientAccess(credentials: DevCredentials): Promise<ClientAccess> {
  const { clientAccess } = await import('../connect.js');
  return clientAccess({ token: credentials.token, ca: credentials.ca, cert: credentials.clientCert, certKey: credentials.clientKey });
}

/**
 * Writes the embedded config into the data dir. A dir that already holds a cluster of another
 * size is refused: its members' logs name the old membership, and new members would bootstrap a
 * different one.
 */
async function writeDevConfig(dir: string, config: ClusterConfig): Promise<string> {
  const file = path.join(dir, DEV_CONFIG_FILE);
  if (existsSync(file)) {
    let previous: ClusterConfig;
    try {
      previous = await loadClusterConfig(file);
    } catch (error) {
      if (!isConfigError(error)) throw error;
      throw new CliError(`${dir} holds an unreadable ${DEV_CONFIG_FILE} (${error.message}); pick another --dir or remove it`);
    }
    if (previous.members.length !== config.members.length) {
      throw new CliError(
        `${dir} holds a ${previous.members.length}-member cluster; run with --nodes ${previous.members.length}, or pick another --dir`,
      );
    }
  }
  await mkdir(dir, { recursive: true });
  const header = 'Written by `kvc dev`; rewritten on every start. Restart one member with\n`kvc start --config <this file> --id N`.';
  await writeFile(file, renderClusterConfig(config, header));
  return file;
}

/** Fails early, with the port named, rather than leaving a member to die on EADDRINUSE. */
async function assertPortsFree(config: ClusterConfig): Promise<void> {
  for (const member of config.members) {
    const [host, portText] = [member.address.slice(0, member.address.lastIndexOf(':')), member.address.slice(member.address.lastIndexOf(':') + 1)];
    const error = await tryListen(host, Number(portText));
    if (error) {
      const hint = error === 'EADDRINUSE' ? ' (is another cluster running? pick another --base-port)' : '';
      throw new CliError(`cannot listen on ${member.address} for member ${member.id}: ${error}${hint}`);
    }
  }
}

function tryListen(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}
