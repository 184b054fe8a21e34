// A small structured logger: one line per event, text for terminals or JSON, with a component name.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(component: string): Logger;
}

export interface LoggerOptions {
  component: string;
  level?: LogLevel;
  json?: boolean;
  write?: (line: string) => void;
}

function levelFromEnv(): LogLevel {
  const v = (process.env.TRELLIS_LOG_LEVEL ?? '').toLowerCase();
  return v in ORDER ? (v as LogLevel) : 'info';
}

export function createLogger(opts: LoggerOptions): Logger {
  const level = opts.level ?? levelFromEnv();
  const json = opts.json ?? process.env.TRELLIS_LOG_FORMAT === 'json';
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < ORDER[level]) return;
    const time = new Date().toISOString();
    if (json) {
      write(JSON.stringify({ time, level: lvl, component: opts.component, msg, ...fields }));
      return;
    }
    const extra = fields
      ? Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v ?? null)}`)
          .join(' ')
      : '';
    write(`${time} ${lvl.padEnd(5)} ${opts.component}: ${msg}${extra ? ` ${extra}` : ''}`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (component) =>
      createLogger({ ...opts, level, json, write, component: `${opts.component}.${component}` }),
  };
}

/** A logger that drops everything: the default in tests and libraries. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
