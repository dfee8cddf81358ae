// Test-only fault switches of `kvc start` (what the chaos harness's own tests turn on to prove it
// catches a broken cluster), gated so that none reaches production by accident: a switch is on
// only when BOTH its command-line flag and its environment variable are set. Either one alone
// refuses the start (exit 1 with a message), so an inherited or forgotten variable can never
// quietly turn off durability. A switch that is on prints a loud warning (stderr and the
// member's log) and is listed in Status (`unsafe_test_switches`, `kvc status`).
//
// To add a switch: one entry in UNSAFE_SWITCHES (name, flag, env, what it breaks); read its value
// from the UnsafeSwitchValues that resolveUnsafeSwitches returns. The chaos harness passes the
// flag of every switch whose variable it sees (unsafeSwitchArgs), so `KVC_X=... kvc chaos` works.
import { Option, type Command } from 'commander';
import { TEST_FAULTS_ENV } from '../faults/index.js';
import { CliError } from './cli-error.js';

export interface UnsafeSwitch {
  /** The name Status lists, e.g. "unsafe-test-ack". */
  readonly name: string;
  /** The flag of `kvc start`, e.g. "--unsafe-test-ack". */
  readonly flag: string;
  /** The environment variable; any non-empty value requests the switch and is its value. */
  readonly env: string;
  /** What the switch breaks, for the warning. */
  readonly breaks: string;
}

export const UNSAFE_SWITCHES = {
  ack: {
    name: 'unsafe-test-ack',
    flag: '--unsafe-test-ack',
    env: 'KVC_TEST_UNSAFE_ACK',
    breaks: 'puts are acknowledged before they are durable, committed or applied (NodeConfig.unsafeAckBeforeCommit)',
  },
  faults: {
    name: 'unsafe-test-faults',
    flag: '--unsafe-test-faults',
    env: TEST_FAULTS_ENV,
    breaks: 'the member obeys the storage and clock fault file the variable names (src/faults: stalled fsyncs, ENOSPC, a shifted clock)',
  },
} as const satisfies Record<string, UnsafeSwitch>;

export type UnsafeSwitchKey = keyof typeof UNSAFE_SWITCHES;

/** The switches that are on, with their environment values. */
export type UnsafeSwitchValues = Partial<Record<UnsafeSwitchKey, string>>;

/** commander's option key of a flag ("--unsafe-test-ack" → "unsafeTestAck"). */
function optionKey(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Adds every switch's flag to `command` (hidden from --help: they are for test harnesses). */
export function addUnsafeSwitchOptions(command: Command): Command {
  for (const s of Object.values(UNSAFE_SWITCHES)) {
    command.addOption(new Option(s.flag, `TEST ONLY, needs ${s.env} too: ${s.breaks}`).hideHelp());
  }
  return command;
}

/**
 * The switches that are on, from the parsed options of `kvc start` and the environment. Throws a
 * CliError (the start is refused) when a flag or a variable comes without the other.
 */
export function resolveUnsafeSwitches(options: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): UnsafeSwitchValues {
  const on: UnsafeSwitchValues = {};
  for (const [key, s] of Object.entries(UNSAFE_SWITCHES) as [UnsafeSwitchKey, UnsafeSwitch][]) {
    const flag = options[optionKey(s.flag)] === true;
    const value = env[s.env] ?? '';
    if (!flag && value === '') continue;
    if (!flag) throw new CliError(`${s.env} is set but ${s.flag} is not: test-only switches need both (refusing to start; unset ${s.env} in production)`);
    if (value === '') throw new CliError(`${s.flag} needs ${s.env} set too: test-only switches need both`);
    on[key] = value;
  }
  return on;
}

/** The Status names of the switches that are on. */
export function unsafeSwitchNames(on: UnsafeSwitchValues): string[] {
  return (Object.keys(on) as UnsafeSwitchKey[]).map((key) => UNSAFE_SWITCHES[key].name);
}

/** One loud warning line per switch that is on. */
export function unsafeSwitchWarnings(on: UnsafeSwitchValues): string[] {
  return (Object.keys(on) as UnsafeSwitchKey[]).map((key) => {
    const s = UNSAFE_SWITCHES[key];
    return `WARNING: TEST-ONLY fault switch on (${s.flag}, ${s.env}=${on[key]}): ${s.breaks}. Never run this in production.`;
  });
}

/** The flags a harness passes to `kvc start` for the switches whose variables are set in `env`. */
export function unsafeSwitchArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return Object.values(UNSAFE_SWITCHES)
    .filter((s) => (env[s.env] ?? '') !== '')
    .map((s) => s.flag);
}
