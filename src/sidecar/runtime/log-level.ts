// A logger whose level can change at run time (the admin `/logging` endpoint).

import type { Logger, LogLevel } from '../../shared/log.js';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Filters a logger that writes everything; `level` is shared by every child. */
export class AdjustableLogger implements Logger {
  readonly #inner: Logger;
  readonly #state: { level: LogLevel };

  constructor(inner: Logger, level: LogLevel | { level: LogLevel }) {
    this.#inner = inner;
    this.#state = typeof level === 'string' ? { level } : level;
  }

  get level(): LogLevel {
    return this.#state.level;
  }

  set level(level: LogLevel) {
    this.#state.level = level;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[this.#state.level] <= ORDER.debug) this.#inner.debug(msg, fields);
  }

  info(msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[this.#state.level] <= ORDER.info) this.#inner.info(msg, fields);
  }

  warn(msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[this.#state.level] <= ORDER.warn) this.#inner.warn(msg, fields);
  }

  error(msg: string, fields?: Record<string, unknown>): void {
    this.#inner.error(msg, fields);
  }

  child(component: string): Logger {
    return new AdjustableLogger(this.#inner.child(component), this.#state);
  }
}
