// `kvc start --config FILE --id ID`: runs one member in this process until SIGINT or SIGTERM, then
// stops it cleanly (the member flushes and closes its WAL and store). Its log goes to stderr as
// JSON lines, or readable lines with --log-format pretty (member-log.ts), at the level of
// --log-level, else the config's log.level, else info.
//
// When started by `kvc dev` the process has an IPC channel to its parent: it reports `ready`
// through it, and stops by itself when the channel closes, so a parent killed with SIGKILL leaves
// no orphan member behind.
//
// Test-only fault switches (unsafe-switches.ts) are on only with both their flag and their
// variable; either alone refuses the start.
//
// SIGHUP makes a TLS member read its CA, certificate and key files again (new connections get them),
// as daemons do; it does not stop the member (SIGINT and SIGTERM do).
import { Option, type Command } from 'commander';
import { loadClusterConfig } from '../../config/index.js';
import type { RunningMember } from '../../member/index.js';
import { CliError, EXIT_FAILURE } from '../cli-error.js';
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevel } from '../log-options.js';
import { parseMemberId } from '../options.js';
import { StopSignal } from '../stop-signal.js';
import { resolveUnsafeSwitches, unsafeSwitchNames, unsafeSwitchWarnings, addUnsafeSwitchOptions, type UnsafeSwitchValues } from '../unsafe-switches.js';

/** How long a clean stop may take before the process gives up and exits anyway. */
export const MEMBER_STOP_TIMEOUT_MS = 15_000;
/** How often the process checks that its member has not halted on a fatal error. */
const HEALTH_CHECK_INTERVAL_MS = 500;

/** What a member started by `kvc dev` sends its parent once it serves. */
export interface ReadyMessage {
  type: 'ready';
  id: number;
  address: string;
  pid: number;
}

interface StartOptions {
  config: string;
  id: number;
  join?: boolean;
  repair?: boolean;
  logLevel?: LogLevel;
  logFormat: LogFormat;
  /** The flags of test-only switches (unsafe-switches.ts), by commander's key. */
  [unsafeFlag: string]: unknown;
}

export function registerStart(program: Command): void {
  const command = program
    .command('start')
    .description('run one cluster member until SIGINT/SIGTERM')
    .requiredOption('--config <file>', 'cluster config (YAML, see cluster-configs/README.md)')
    .requiredOption('--id <id>', 'id of the member to run, as listed in the config (2 or n2)', parseMemberId)
    .option('--join', 'the member was added to a running cluster (kvc members add): start with no membership')
    .option('--repair', 'truncate a damaged WAL at the damage instead of refusing to start (loses the entries after it)')
    .addOption(new Option('--log-level <level>', 'lowest level logged (default: the config\'s log.level, else info)').choices(LOG_LEVELS))
    .addOption(new Option('--log-format <format>', 'json: one JSON object per line; pretty: readable lines').choices(LOG_FORMATS).default('json').env('KVC_LOG_FORMAT'));
  addUnsafeSwitchOptions(command).action(async (o: StartOptions) => {
    process.exitCode = await runStart(o);
  });
}

async function runStart(o: StartOptions): Promise<number> {
  // Before anything else: a refused switch must not leave a half-started member behind.
  const unsafe = resolveUnsafeSwitches(o);
  const config = await loadClusterConfig(o.config);
  // Loaded here, not at the top: the server side (gRPC server, WAL, LevelDB) is only needed by
  // this command, and every other command starts faster without it.
  const { memberOptions, startMember, tuneHeap } = await import('../../member/index.js');
  // Before the member allocates its first payload buffers (src/member/heap-tuning.ts).
  tuneHeap();
  const options = { ...memberOptions(config, o.id, { join: o.join === true, walRepair: o.repair === true, source: o.config }), ...unsafeMemberOptions(unsafe) };
  if (unsafe.ack !== undefined) options.node = { ...options.node, unsafeAckBeforeCommit: true };
  const faultFile = unsafe.faults;
  let member: RunningMember | undefined;
  const { memberLog } = await import('../member-log.js');
  const logs = memberLog(o.id, () => member, { level: o.logLevel ?? config.log?.level ?? 'info', format: o.logFormat });
  const log = logs.info;
  for (const warning of unsafeSwitchWarnings(unsafe)) {
    process.stderr.write(`kvc start: ${warning}\n`);
    logs.warn(warning);
  }
  // Listening from the start, so a signal during startup still ends in a clean stop. A signal
  // repeated while the member stops means "now": exit without the clean stop.
  let faults: { stop(): void } | undefined;
  const stop = new StopSignal({ onRepeat: () => process.exit(EXIT_FAILURE), signals: ['SIGINT', 'SIGTERM'] });
  // Listening from the start too: SIGHUP's default action would end the process.
  const onHangup = reloadOnHangup(() => member, logs);
  process.on('SIGHUP', onHangup);
  // Started by `kvc dev`: a closed IPC channel means the parent is gone, however it ended.
  const onDisconnect = (): void => stop.trigger('parent process went away');
  if (typeof process.send === 'function') {
    if (process.connected) process.once('disconnect', onDisconnect);
    else onDisconnect();
  }
  try {
    member = await startMember({ ...options, logger: log }).catch((error: Error) => {
      throw new CliError(`member ${o.id} did not start: ${error.message}`);
    });
    log(`serving at ${member.address} (pid ${process.pid}, data ${options.dataDir})`);
    if (faultFile !== undefined) faults = (await import('../../faults/index.js')).watchTestFaults(faultFile, logs.warn);
    if (process.send && process.connected) process.send({ type: 'ready', id: o.id, address: member.address, pid: process.pid } satisfies ReadyMessage);
    const reason = await stopRequested(member, stop);
    (reason.exitCode === 0 ? logs.info : logs.error)(`stopping: ${reason.why}`);
    const stopped = await Promise.race([
      member.stop().then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), MEMBER_STOP_TIMEOUT_MS).unref()),
    ]);
    if (!stopped) throw new CliError(`member ${o.id} did not stop within ${MEMBER_STOP_TIMEOUT_MS} ms`);
    log('stopped');
    return reason.exitCode;
  } finally {
    faults?.stop();
    process.off('SIGHUP', onHangup);
    stop.dispose();
    process.off('disconnect', onDisconnect);
    if (process.connected) process.disconnect();
  }
}

/** A SIGHUP listener: reloads the member's TLS files; a bad file is logged and the old ones stay. */
function reloadOnHangup(member: () => RunningMember | undefined, logs: { info: (line: string) => void; error: (line: string) => void }): () => void {
  return () => {
    const running = member();
    if (running === undefined) return logs.info('SIGHUP: the member is not serving yet; nothing to reload');
    void running.reloadCertificates().then(
      (reloaded) => {
        if (!reloaded) logs.info('SIGHUP: no TLS files to reload (plaintext member)');
      },
      (error: Error) => logs.error(`SIGHUP: TLS files not reloaded, the old ones stay in use: ${error.message}`),
    );
  };
}

/** Resolves when the process should stop: `stop` fired (a signal, the parent gone) or the member halted. */
async function stopRequested(member: RunningMember, stop: StopSignal): Promise<{ why: string; exitCode: number }> {
  let exitCode = 0;
  const health = setInterval(() => {
    const fatal = member.node.fatalError;
    if (!fatal) return;
    exitCode = 1;
    stop.trigger(`the member halted: ${fatal.message}`);
  }, HEALTH_CHECK_INTERVAL_MS);
  const why = await stop.promise;
  clearInterval(health);
  return { why, exitCode };
}

/** What the member reports in Status about the test-only switches that are on. */
function unsafeMemberOptions(unsafe: UnsafeSwitchValues): { unsafeTestSwitches?: string[] } {
  const names = unsafeSwitchNames(unsafe);
  return names.length === 0 ? {} : { unsafeTestSwitches: names };
}
