// Test-only storage and clock faults of a member process: the chaos harness's way into a running
// member (docs/CHAOS.md, "Storage faults"). Off unless `kvc start` is given BOTH the environment
// variable KVC_TEST_FAULTS (the path of a control file) and the flag --unsafe-test-faults; it then
// prints a loud warning. While on, the member reads the control file every CONTROL_POLL_MS: a
// JSON object whose fields set the faults in force (a missing or unreadable file means none):
//
//   { "syncDelayMs": 3000 }       every WAL and blob-file fdatasync first stalls this long;
//   { "clockOffsetMs": -300000 }  the process's wall clock (Date) jumps by this much;
//   { "enospc": true }            WAL writes and blob appends fail with ENOSPC (a full disk,
//                                 where the harness cannot mount a size-limited filesystem).
//
// The layers that sync and write (src/wal, src/store/blob) call `beforeSync` and
// `beforeWrite` here; with no fault set both cost one comparison. Kept apart from everything else
// so that it can move onto the shared test-switch gate in one piece.
import { readFileSync } from 'node:fs';

/** The environment variable naming the control file. */
export const TEST_FAULTS_ENV = 'KVC_TEST_FAULTS';
/** How often a member re-reads the control file. */
export const CONTROL_POLL_MS = 100;
/** Bounds of what the control file may ask for, so a typo cannot hang a member for hours. */
export const SYNC_DELAY_MS_MAX = 60_000;
export const CLOCK_OFFSET_MS_MAX = 24 * 60 * 60 * 1000;

export interface TestFaults {
  syncDelayMs: number;
  clockOffsetMs: number;
  enospc: boolean;
}

const NO_FAULTS: Readonly<TestFaults> = Object.freeze({ syncDelayMs: 0, clockOffsetMs: 0, enospc: false });
let current: TestFaults = { ...NO_FAULTS };
const RealDate = Date;

/** The faults in force now. */
export function testFaults(): Readonly<TestFaults> {
  return current;
}

/** Sets the faults in force (the control file's reader does; tests may call it directly). */
export function setTestFaults(faults: Partial<TestFaults>): void {
  const next: TestFaults = { ...NO_FAULTS, ...faults };
  if (next.clockOffsetMs !== current.clockOffsetMs) shiftClock(next.clockOffsetMs);
  current = next;
}

/** Awaited before every fdatasync of the WAL and the blob files: the slow-fsync fault. */
export async function beforeSync(): Promise<void> {
  const ms = current.syncDelayMs;
  if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
}

/** Called before every WAL write and blob append: the injected full disk. */
export function beforeWrite(what: string): void {
  if (!current.enospc) return;
  throw Object.assign(new Error(`ENOSPC: no space left on device, ${what} (test fault)`), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

/** Parses the control file's text; throws on anything but the documented fields in bounds. */
export function parseTestFaults(text: string): TestFaults {
  const value: unknown = text.trim() === '' ? {} : JSON.parse(text);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError('the test fault file must hold a JSON object');
  const o = value as Record<string, unknown>;
  const syncDelayMs = o.syncDelayMs ?? 0;
  const clockOffsetMs = o.clockOffsetMs ?? 0;
  const enospc = o.enospc ?? false;
  if (!Number.isInteger(syncDelayMs) || (syncDelayMs as number) < 0 || (syncDelayMs as number) > SYNC_DELAY_MS_MAX) throw new RangeError(`syncDelayMs must be an integer in [0, ${SYNC_DELAY_MS_MAX}]`);
  if (!Number.isInteger(clockOffsetMs) || Math.abs(clockOffsetMs as number) > CLOCK_OFFSET_MS_MAX) throw new RangeError(`clockOffsetMs must be an integer within ±${CLOCK_OFFSET_MS_MAX}`);
  if (typeof enospc !== 'boolean') throw new TypeError('enospc must be true or false');
  return { syncDelayMs: syncDelayMs as number, clockOffsetMs: clockOffsetMs as number, enospc };
}

/**
 * Applies the control file now and every CONTROL_POLL_MS until `stop()`. A file that does not
 * parse is logged once per change and leaves the faults as they were.
 */
export function watchTestFaults(file: string, log: (line: string) => void): { stop(): void } {
  let lastText: string | undefined;
  const poll = (): void => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = '';
    }
    if (text === lastText) return;
    lastText = text;
    try {
      const faults = parseTestFaults(text);
      setTestFaults(faults);
      log(`TEST FAULTS now: ${JSON.stringify(faults)}`);
    } catch (error) {
      log(`TEST FAULTS: ignoring ${file}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  poll();
  const timer = setInterval(poll, CONTROL_POLL_MS);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      setTestFaults({});
    },
  };
}

/**
 * Makes the process's wall clock read `offsetMs` off the real one: `Date.now()` and `new Date()`
 * both, the way a clock step (NTP, a VM resumed) looks to a process. Timers (libuv's monotonic
 * clock) and `performance.now()` do not move, as in reality.
 */
function shiftClock(offsetMs: number): void {
  if (offsetMs === 0) {
    globalThis.Date = RealDate;
    return;
  }
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(RealDate.now() + offsetMs);
      else super(...(args as [string | number | Date]));
    }

    static override now(): number {
      return RealDate.now() + offsetMs;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
