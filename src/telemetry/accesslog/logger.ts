// The access logger a listener holds: a compiled format plus a sink, built from Istio's mesh settings.

import type { RequestRecord } from '../record.js';
import { ISTIO_JSON_FORMAT, ISTIO_TEXT_FORMAT } from './formats.js';
import { compileJsonFormat, compileTextFormat, type LineFormatter } from './formatter.js';
import type { AccessLogSink } from './sink.js';

export interface AccessLoggerOptions {
  sink: AccessLogSink;
  /** Istio's `accessLogEncoding`. Default TEXT. */
  encoding?: 'TEXT' | 'JSON';
  /** Istio's `accessLogFormat`: a text format, or a JSON object of key -> format; empty means the default. */
  format?: string | Readonly<Record<string, string>>;
}

export class AccessLogger {
  readonly #format: LineFormatter;
  readonly #sink: AccessLogSink;

  constructor(opts: AccessLoggerOptions) {
    this.#sink = opts.sink;
    if (opts.encoding === 'JSON') {
      const fmt =
        typeof opts.format === 'object' && Object.keys(opts.format).length > 0
          ? opts.format
          : ISTIO_JSON_FORMAT;
      this.#format = compileJsonFormat(fmt);
    } else {
      let fmt = typeof opts.format === 'string' && opts.format !== '' ? opts.format : ISTIO_TEXT_FORMAT;
      // Istio appends the newline when a custom format lacks one.
      if (!fmt.endsWith('\n')) fmt += '\n';
      this.#format = compileTextFormat(fmt);
    }
  }

  /** Formats and queues one record; never waits on the disk. */
  log(rec: RequestRecord): void {
    this.#sink.write(this.#format(rec));
  }
}
