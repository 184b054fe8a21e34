// One coarse timer per server sweeps every connection's deadline, so no request pays for a timer of its own.

import { type Clock, systemClock, type Timer } from '../../shared/clock.js';

/** Something with a deadline (`clock.monotonic()` ms, 0 for none) and what to do when it passes. */
export interface DeadlineHolder {
  deadline: number;
  onDeadline(now: number): void;
}

export interface DeadlineSweeperOptions {
  clock?: Clock;
  /** How often deadlines are checked; a deadline fires up to this late. */
  tickMs?: number;
}

/**
 * Checks registered holders every `tickMs` while any are registered. Setting `holder.deadline` is a field
 * write, which is what keeps header and idle timeouts off the per-request cost.
 */
export class DeadlineSweeper {
  readonly clock: Clock;
  #tickMs: number;
  #holders = new Set<DeadlineHolder>();
  #timer: Timer | undefined = undefined;

  constructor(opts: DeadlineSweeperOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.#tickMs = opts.tickMs ?? 1000;
  }

  add(holder: DeadlineHolder): void {
    this.#holders.add(holder);
    if (this.#timer === undefined) this.#arm();
  }

  delete(holder: DeadlineHolder): void {
    this.#holders.delete(holder);
    if (this.#holders.size === 0 && this.#timer !== undefined) {
      this.clock.clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  get size(): number {
    return this.#holders.size;
  }

  #arm(): void {
    this.#timer = this.clock.setTimeout(() => this.#sweep(), this.#tickMs);
    this.#timer.unref?.();
  }

  #sweep(): void {
    this.#timer = undefined;
    const now = this.clock.monotonic();
    for (const holder of [...this.#holders]) {
      if (holder.deadline !== 0 && now >= holder.deadline) holder.onDeadline(now);
    }
    if (this.#holders.size > 0 && this.#timer === undefined) this.#arm();
  }
}
