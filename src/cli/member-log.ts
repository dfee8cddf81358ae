// How `kvc start` writes its member's log on stderr. JSON lines by default (pino), one object per
// line with `level` (a name), `time` (ISO 8601), `member`, `term`, `role` and `msg`, for log
// shippers; `pretty` writes the readable `<time> n<id> t<term> <role> <LEVEL> <msg>` lines that
// `kvc dev` asks for when it runs on a terminal. The term and role are read from the member when
// each line is written (the last ones seen once it has stopped). Lines below the level are dropped.
import pino from 'pino';
import type { RunningMember } from '../member/index.js';
import { LOG_LEVELS, type LogFormat, type LogLevel } from './log-options.js';

export interface MemberLog {
  info(line: string): void;
  warn(line: string): void;
  error(line: string): void;
}

export function memberLog(id: number, member: () => RunningMember | undefined, o: { level: LogLevel; format: LogFormat }): MemberLog {
  // The last term and role seen stay on the lines once the node has stopped and cannot be asked.
  let term: number | null = null;
  let role = 'starting';
  const refresh = (): void => {
    try {
      const running = member();
      if (running === undefined) return;
      if (running.node.stopped) {
        role = 'stopped';
        return;
      }
      const status = running.node.status();
      term = status.term;
      role = status.role;
    } catch {
      // A member halting mid-status keeps what was seen last; the line itself matters more.
    }
  };
  if (o.format === 'pretty') return prettyLog(id, o.level, () => (refresh(), { term, role }));
  const logger = pino(
    {
      level: o.level,
      base: { member: id },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: () => (refresh(), { term, role }),
    },
    // Synchronous: a member that crashes right after a line must not lose it.
    pino.destination({ fd: 2, sync: true }),
  );
  return { info: (line) => logger.info(line), warn: (line) => logger.warn(line), error: (line) => logger.error(line) };
}

function prettyLog(id: number, level: LogLevel, context: () => { term: number | null; role: string }): MemberLog {
  const threshold = LOG_LEVELS.indexOf(level);
  const write = (name: 'info' | 'warn' | 'error', line: string): void => {
    if (LOG_LEVELS.indexOf(name) < threshold) return;
    const { term, role } = context();
    process.stderr.write(`${new Date().toISOString()} n${id} t${term ?? '-'} ${role} ${name.toUpperCase()} ${line}\n`);
  };
  return { info: (line) => write('info', line), warn: (line) => write('warn', line), error: (line) => write('error', line) };
}
