// Access log sinks: lines are queued and written in batches off the request path; a full queue drops and counts.

import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';

export interface AccessLogSinkOptions {
  /** `stdout`, a file path (appended), or any writable stream (tests). */
  destination: 'stdout' | { path: string } | { stream: Writable };
  /** Bytes queued but not yet written before new lines are dropped. Default 4 MiB. */
  maxBufferedBytes?: number;
}

export interface AccessLogSinkStats {
  written: number;
  dropped: number;
  bufferedBytes: number;
}

/**
 * Collects lines in memory and hands them to the stream in one write per batch. At most one write is
 * in flight; while it is, new lines accumulate for the next batch. When the stream is slower than
 * traffic the queue fills to maxBufferedBytes and further lines are dropped, never awaited.
 */
export class AccessLogSink {
  readonly #stream: Writable;
  readonly #ownsStream: boolean;
  readonly #max: number;
  #queue: string[] = [];
  #queuedBytes = 0;
  #inFlightBytes = 0;
  #writing = false;
  #scheduled = false;
  #closed = false;
  #idle: (() => void)[] = [];
  #written = 0;
  #dropped = 0;

  constructor(opts: AccessLogSinkOptions) {
    const d = opts.destination;
    if (d === 'stdout') {
      this.#stream = process.stdout;
      this.#ownsStream = false;
    } else if ('path' in d) {
      this.#stream = createWriteStream(d.path, { flags: 'a' });
      this.#ownsStream = true;
    } else {
      this.#stream = d.stream;
      this.#ownsStream = false;
    }
    this.#max = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    // A failing disk must not crash the proxy: lines in flight are counted as dropped.
    this.#stream.on('error', () => {});
  }

  /** Queues one line (with its newline). Returns false when the line was dropped. */
  write(line: string): boolean {
    if (this.#closed || this.#queuedBytes + this.#inFlightBytes + line.length > this.#max) {
      this.#dropped++;
      return false;
    }
    this.#queue.push(line);
    this.#queuedBytes += line.length;
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      setImmediate(() => this.#drain());
    }
    return true;
  }

  #drain(): void {
    this.#scheduled = false;
    if (this.#writing) return;
    if (this.#queue.length === 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
      return;
    }
    const batch = this.#queue;
    const lines = batch.length;
    this.#queue = [];
    this.#inFlightBytes = this.#queuedBytes;
    this.#queuedBytes = 0;
    this.#writing = true;
    this.#stream.write(batch.join(''), (err) => {
      this.#writing = false;
      this.#inFlightBytes = 0;
      if (err) this.#dropped += lines;
      else this.#written += lines;
      this.#drain();
    });
  }

  /** Resolves once every line queued so far has been written (or dropped). */
  flush(): Promise<void> {
    if (!this.#writing && this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      if (!this.#writing && !this.#scheduled) this.#drain();
    });
  }

  /** Flushes, then closes a file it opened (stdout and injected streams stay open). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    if (this.#ownsStream) {
      await new Promise<void>((resolve) => this.#stream.end(resolve));
    }
  }

  stats(): AccessLogSinkStats {
    return {
      written: this.#written,
      dropped: this.#dropped,
      bufferedBytes: this.#queuedBytes + this.#inFlightBytes,
    };
  }
}
