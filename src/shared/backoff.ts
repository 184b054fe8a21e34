// Jittered exponential backoff, as Envoy and gRPC use for reconnects and retries.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Returns a number in [0, 1); injected for tests. */
  random?: () => number;
}

/** Full jitter: a uniform delay in [0, min(max, base * 2^attempt)). Attempt counts from 0. */
export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const random = opts.random ?? Math.random;
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * ceiling);
}

/** A stateful backoff for a reconnect loop: next() grows, reset() after a success. */
export class Backoff {
  #attempt = 0;
  readonly #opts: BackoffOptions;

  constructor(opts: BackoffOptions) {
    this.#opts = opts;
  }

  next(): number {
    // Never zero: a reconnect loop must always yield to the event loop.
    return Math.max(1, backoffDelay(this.#attempt++, this.#opts));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
