// A debouncer for config pushes: waits for a quiet period, but never longer than a maximum after the first event.

import { type Clock, systemClock, type Timer } from '../../shared/clock.js';
import type { Logger } from '../../shared/log.js';
import { silentLogger } from '../../shared/log.js';

export interface DebounceBatch<T> {
  readonly events: readonly T[];
  /** Monotonic ms of the first event in the batch: pass it on as `queuedAt` to measure convergence. */
  readonly firstAt: number;
  readonly lastAt: number;
}

export interface DebouncerOptions<T> {
  /** Quiet period after the last event (Istio's PILOT_DEBOUNCE_AFTER, 100 ms). */
  delayMs: number;
  /** Upper bound after the first event (Istio's PILOT_DEBOUNCE_MAX, 10 s). */
  maxDelayMs: number;
  /** Runs the push. A batch never starts while the previous one is still running. */
  flush: (batch: DebounceBatch<T>) => void | Promise<void>;
  clock?: Clock;
  logger?: Logger;
}

export class Debouncer<T> {
  readonly #opts: DebouncerOptions<T>;
  readonly #clock: Clock;
  #events: T[] = [];
  #firstAt = 0;
  #lastAt = 0;
  #timer: Timer | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(opts: DebouncerOptions<T>) {
    if (!(opts.delayMs >= 0) || !(opts.maxDelayMs >= opts.delayMs))
      throw new RangeError(`debounce delay ${opts.delayMs} ms must be >= 0 and <= max ${opts.maxDelayMs} ms`);
    this.#opts = opts;
    this.#clock = opts.clock ?? systemClock;
  }

  /** Number of events waiting for the next flush. */
  get pending(): number {
    return this.#events.length;
  }

  push(event: T): void {
    if (this.#closed) return;
    const now = this.#clock.monotonic();
    if (this.#events.length === 0) this.#firstAt = now;
    this.#lastAt = now;
    this.#events.push(event);
    if (!this.#running) this.#schedule();
  }

  /** Flushes whatever is pending now (and waits for a running flush first). */
  async flushNow(): Promise<void> {
    while (this.#running) await this.#running;
    if (this.#events.length > 0) await this.#fire();
  }

  /** Drops pending events and stops timers; a running flush completes. */
  close(): void {
    this.#closed = true;
    this.#events = [];
    this.#cancelTimer();
  }

  #schedule(): void {
    this.#cancelTimer();
    if (this.#events.length === 0) return;
    const now = this.#clock.monotonic();
    const quietAt = this.#lastAt + this.#opts.delayMs;
    const deadline = this.#firstAt + this.#opts.maxDelayMs;
    const wait = Math.max(0, Math.min(quietAt, deadline) - now);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      // Events may have arrived since scheduling: re-check the quiet period unless the deadline passed.
      const t = this.#clock.monotonic();
      if (t < this.#lastAt + this.#opts.delayMs && t < this.#firstAt + this.#opts.maxDelayMs) {
        this.#schedule();
        return;
      }
      void this.#fire();
    }, wait);
    this.#timer.unref?.();
  }

  #cancelTimer(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #fire(): Promise<void> {
    this.#cancelTimer();
    const batch: DebounceBatch<T> = { events: this.#events, firstAt: this.#firstAt, lastAt: this.#lastAt };
    this.#events = [];
    const run = (async () => {
      try {
        await this.#opts.flush(batch);
      } catch (e) {
        (this.#opts.logger ?? silentLogger).error('debounced push failed', { error: String(e) });
      }
    })();
    this.#running = run.finally(() => {
      this.#running = undefined;
      // Events that arrived during the flush form the next batch, timed from their own first event.
      if (!this.#closed) this.#schedule();
    });
    return this.#running;
  }
}
