// Joins two sockets: bytes both ways with backpressure, half-closes forwarded, an idle timeout, byte counts.

import type { Socket } from 'node:net';
import type { DeadlineHolder, DeadlineSweeper } from '../http/deadlines.js';

export interface SpliceOptions {
  downstream: Socket;
  upstream: Socket;
  /** Closes both sides after this long without a byte either way; 0 disables. */
  idleTimeoutMs: number;
  /** Closes both sides after this long in total (max_downstream_connection_duration); 0 disables. */
  maxDurationMs?: number;
  sweeper: DeadlineSweeper;
  /** Called once when both sockets are gone; `reason` says why the splice ended. */
  onClose(result: SpliceResult): void;
}

export interface SpliceResult {
  /** Bytes read from the downstream (sent upstream) and written to it (received from upstream). */
  bytesFromDownstream: number;
  bytesToDownstream: number;
  reason: 'closed' | 'idle_timeout' | 'max_duration' | 'downstream_error' | 'upstream_error' | 'terminated';
  error?: Error;
}

/**
 * A live splice. Each direction pauses its reader while the writer is full (`write()` false) and resumes
 * on 'drain'; a FIN from either side is forwarded as `end()`, so protocols that half-close (a client that
 * sends its request and shuts down writing, then reads the answer) work through the proxy.
 */
export class Splice implements DeadlineHolder {
  deadline = 0;
  bytesFromDownstream = 0;
  bytesToDownstream = 0;
  readonly #opts: SpliceOptions;
  readonly #started: number;
  #finished = false;
  #reason: SpliceResult['reason'] = 'closed';
  #error: Error | undefined;
  #open = 2;

  constructor(opts: SpliceOptions) {
    this.#opts = opts;
    this.#started = opts.sweeper.clock.monotonic();
    const { downstream, upstream } = opts;
    this.#touch();
    if (opts.idleTimeoutMs > 0 || (opts.maxDurationMs ?? 0) > 0) opts.sweeper.add(this);
    this.#pipe(downstream, upstream, (n) => {
      this.bytesFromDownstream += n;
    });
    this.#pipe(upstream, downstream, (n) => {
      this.bytesToDownstream += n;
    });
    downstream.on('error', (e) => this.#fail('downstream_error', e));
    upstream.on('error', (e) => this.#fail('upstream_error', e));
    // A side that is fully closed (both directions, or reset) takes the other with it.
    const closed = () => {
      this.#open--;
      if (this.#open === 1) {
        downstream.destroy();
        upstream.destroy();
      }
      if (this.#open === 0) this.#finish();
    };
    downstream.once('close', closed);
    upstream.once('close', closed);
  }

  /** Ends the splice now (drain deadline, shutdown). */
  terminate(): void {
    if (this.#finished) return;
    this.#reason = 'terminated';
    this.#opts.downstream.destroy();
    this.#opts.upstream.destroy();
  }

  onDeadline(now: number): void {
    const max = this.#opts.maxDurationMs ?? 0;
    if (max > 0 && now - this.#started >= max) this.#reason = 'max_duration';
    else this.#reason = 'idle_timeout';
    this.#opts.downstream.destroy();
    this.#opts.upstream.destroy();
  }

  #touch(): void {
    const idle = this.#opts.idleTimeoutMs;
    const max = this.#opts.maxDurationMs ?? 0;
    const now = this.#opts.sweeper.clock.monotonic();
    const idleAt = idle > 0 ? now + idle : Number.POSITIVE_INFINITY;
    const maxAt = max > 0 ? this.#started + max : Number.POSITIVE_INFINITY;
    const at = Math.min(idleAt, maxAt);
    this.deadline = at === Number.POSITIVE_INFINITY ? 0 : at;
  }

  #pipe(from: Socket, to: Socket, count: (n: number) => void): void {
    from.on('data', (chunk: Buffer) => {
      count(chunk.length);
      this.#touch();
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => from.resume());
    from.on('end', () => {
      if (!to.destroyed) to.end();
    });
    from.resume();
  }

  #fail(reason: SpliceResult['reason'], e: Error): void {
    if (this.#error === undefined) {
      this.#error = e;
      if (this.#reason === 'closed') this.#reason = reason;
    }
    this.#opts.downstream.destroy();
    this.#opts.upstream.destroy();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#opts.sweeper.delete(this);
    this.#opts.onClose({
      bytesFromDownstream: this.bytesFromDownstream,
      bytesToDownstream: this.bytesToDownstream,
      reason: this.#reason,
      ...(this.#error && { error: this.#error }),
    });
  }
}
