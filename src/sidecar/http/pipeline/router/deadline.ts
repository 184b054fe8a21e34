// A request's route timeout as one cancellation: every attempt and back-off follows it, the timer aborts it.

import type { Clock, Timer } from '../../../../shared/clock.js';
import { Cancellation, type CancelSignal } from '../../cancel.js';

/** The abort reason pools map to UPSTREAM_REQUEST_TIMEOUT (UT). */
export function timeoutReason(message: string): DOMException {
  return new DOMException(message, 'TimeoutError');
}

/**
 * Follows the downstream's signal (the client went away) and, when `timeoutMs` > 0, aborts after it with a
 * TimeoutError. Envoy's route timeout covers the response body too, so the timer is kept until the exchange
 * completes (`clear`), except for upgrades, which must outlive it.
 */
export class RouteDeadline {
  /** The downstream's own signal when there is no timeout (nothing to add, nothing to allocate). */
  readonly signal: CancelSignal;
  readonly timeoutMs: number;
  timedOut = false;
  #timer: Timer | undefined;
  readonly #clock: Clock;

  constructor(clock: Clock, downstream: CancelSignal, timeoutMs: number) {
    this.#clock = clock;
    this.timeoutMs = timeoutMs;
    if (timeoutMs > 0) {
      const own = new Cancellation().follow(downstream);
      this.signal = own;
      this.#timer = clock.setTimeout(() => {
        this.#timer = undefined;
        this.timedOut = true;
        own.abort(timeoutReason(`route timeout of ${timeoutMs}ms`));
      }, timeoutMs);
    } else {
      this.signal = downstream;
    }
  }

  get timer(): Timer | undefined {
    return this.#timer;
  }

  clear(): void {
    if (this.#timer !== undefined) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }
}

/** Waits `ms` unless `signal` aborts first; resolves false when aborted. */
export function sleep(clock: Clock, ms: number, signal: CancelSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      resolve(false);
    };
    const timer = clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
