/**
 * drover's own log: one JSON object per line on stderr (the server's log file when it runs in the
 * background), in the shape pino writes, so the usual tools read it.
 */
export type LogLevel = "info" | "warn" | "error";

const LEVELS: Record<LogLevel, number> = { info: 30, warn: 40, error: 50 };

export function serverLog(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, ...fields, msg: message })}\n`);
}
