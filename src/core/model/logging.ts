/** Log levels as `get_log_level` reports them to the PDKs, lowest first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogThreshold = LogLevel | 'off';

export interface LogEntry {
  time: number;
  pluginId: number;
  name: string;
  level: LogLevel;
  message: string;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/** Whether a message at `level` passes the threshold. */
export function passes(level: LogLevel, threshold: LogThreshold): boolean {
  return threshold !== 'off' && LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}
