// The log levels and formats `kvc start` and `kvc dev` accept (member-log.ts writes the lines).
// Apart from member-log.ts so that registering the commands does not load the logger.
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
