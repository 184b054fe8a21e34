// Batched span export over HTTP: a bounded queue that drops when full, retries with backoff, flushes on shutdown.

import { Agent, request } from 'node:http';
import { Backoff } from '../../shared/backoff.js';
import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import type { SpanEncoder } from './encode.js';
import type { FinishedSpan } from './span.js';
import type { SpanSink } from './tracer.js';

export interface BatchExporterOptions {
  /** Collector base URL, e.g. `http://127.0.0.1:4318`; the encoder adds its path. */
  endpoint: string;
  encoder: SpanEncoder;
  /** Spans held (queued plus in flight) before new ones are dropped. Default 2048. */
  maxQueue?: number;
  /** Spans per request. Default 512. */
  maxBatch?: number;
  /** A partial batch is sent after this long. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Per-request timeout. Default 5000 ms. */
  timeoutMs?: number;
  backoff?: { baseMs: number; maxMs: number };
  clock?: Clock;
  random?: () => number;
  logger?: Logger;
  headers?: Record<string, string>;
}

export interface ExporterStats {
  queued: number;
  exported: number;
  dropped: number;
  failedRequests: number;
}

export class BatchSpanExporter implements SpanSink {
  readonly #url: URL;
  readonly #encoder: SpanEncoder;
  readonly #maxQueue: number;
  readonly #maxBatch: number;
  readonly #intervalMs: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1 });
  readonly #headers: Record<string, string>;
  #queue: FinishedSpan[] = [];
  #inFlight: FinishedSpan[] = [];
  #timer: Timer | undefined;
  #retryTimer: Timer | undefined;
  #sending = false;
  #closed = false;
  #waiters: (() => void)[] = [];
  #exported = 0;
  #dropped = 0;
  #failed = 0;

  constructor(opts: BatchExporterOptions) {
    this.#url = new URL(opts.encoder.path, opts.endpoint);
    this.#encoder = opts.encoder;
    this.#maxQueue = opts.maxQueue ?? 2048;
    this.#maxBatch = opts.maxBatch ?? 512;
    this.#intervalMs = opts.flushIntervalMs ?? 1000;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#clock = opts.clock ?? systemClock;
    this.#log = opts.logger ?? silentLogger;
    const backoff = opts.backoff ?? { baseMs: 100, maxMs: 5000 };
    this.#backoff = new Backoff(opts.random ? { ...backoff, random: opts.random } : backoff);
    this.#headers = { 'content-type': opts.encoder.contentType, ...opts.headers };
  }

  /** Queues a span; returns false (and counts it) when the queue is full or the exporter is shut down. */
  export(span: FinishedSpan): boolean {
    if (this.#closed || this.#queue.length + this.#inFlight.length >= this.#maxQueue) {
      this.#dropped++;
      return false;
    }
    this.#queue.push(span);
    if (this.#queue.length >= this.#maxBatch) this.#kick();
    else if (!this.#timer && !this.#sending && !this.#retryTimer) {
      this.#timer = this.#clock.setTimeout(() => {
        this.#timer = undefined;
        this.#kick();
      }, this.#intervalMs);
      this.#timer.unref?.();
    }
    return true;
  }

  #kick(): void {
    if (this.#sending || this.#retryTimer) return;
    if (this.#timer) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (this.#inFlight.length === 0) {
      if (this.#queue.length === 0) {
        for (const w of this.#waiters.splice(0)) w();
        return;
      }
      this.#inFlight = this.#queue.splice(0, this.#maxBatch);
    }
    this.#sending = true;
    void this.#post(this.#encoder.encode(this.#inFlight)).then((ok) => {
      this.#sending = false;
      if (ok) {
        this.#exported += this.#inFlight.length;
        this.#inFlight = [];
        this.#backoff.reset();
        this.#kick();
        return;
      }
      this.#failed++;
      if (this.#closed) {
        // Shutting down with the collector unreachable: give up on what is left.
        this.#dropped += this.#inFlight.length + this.#queue.length;
        this.#inFlight = [];
        this.#queue = [];
        for (const w of this.#waiters.splice(0)) w();
        return;
      }
      const delay = this.#backoff.next();
      this.#retryTimer = this.#clock.setTimeout(() => {
        this.#retryTimer = undefined;
        this.#kick();
      }, delay);
      this.#retryTimer.unref?.();
    });
  }

  #post(body: string): Promise<boolean> {
    return new Promise((resolve) => {
      const req = request(
        this.#url,
        {
          method: 'POST',
          agent: this.#agent,
          headers: { ...this.#headers, 'content-length': Buffer.byteLength(body) },
          timeout: this.#timeoutMs,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300;
            if (!ok) this.#log.warn('span export rejected', { url: this.#url.href, status: res.statusCode });
            resolve(ok);
          });
          res.on('error', () => resolve(false));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.#timeoutMs} ms`)));
      req.on('error', (e) => {
        this.#log.debug('span export failed', { url: this.#url.href, error: errorMessage(e) });
        resolve(false);
      });
      req.end(body);
    });
  }

  /** Sends everything queued now; resolves when the queue is empty (or the collector gave up on shutdown). */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      if (this.#retryTimer && this.#closed) {
        this.#clock.clearTimeout(this.#retryTimer);
        this.#retryTimer = undefined;
      }
      this.#kick();
    });
  }

  /** Stops accepting spans and makes one last attempt to deliver what is queued. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#agent.destroy();
  }

  stats(): ExporterStats {
    return {
      queued: this.#queue.length + this.#inFlight.length,
      exported: this.#exported,
      dropped: this.#dropped,
      failedRequests: this.#failed,
    };
  }
}
