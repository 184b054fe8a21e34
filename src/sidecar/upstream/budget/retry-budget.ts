// Linkerd's retry budget: retries may add at most `percent` of recent requests plus a floor per second.

import { type Clock, systemClock } from '../../../shared/clock.js';
import type { RetryBudgetConfig } from '../../../shared/retry-budget.js';

const SLOTS = 10;

/**
 * Tower's `TpsBudget`, which Linkerd's ServiceProfile retry budget uses: every original request
 * deposits `percent` of a retry into a sliding window of `ttl` (ten slots), every retry withdraws one,
 * and a constant reserve of `minRetriesPerSecond × ttl` is always available. Against a backend that
 * fails everything the extra load is thus bounded by `percent × rate + minRetriesPerSecond`, whatever
 * number of retries the routes ask for.
 */
export class RetryBudget {
  readonly config: RetryBudgetConfig;
  /** Envoy counts a retry the budget refuses as `upstream_rq_retry_overflow`. */
  readonly counters = { retries_allowed: 0, upstream_rq_retry_overflow: 0 };
  readonly #clock: Clock;
  readonly #slots = new Float64Array(SLOTS);
  readonly #windowMs: number;
  readonly #reserve: number;
  #writer = 0;
  #index = 0;
  #windowStart: number;

  constructor(config: RetryBudgetConfig, clock: Clock = systemClock) {
    this.config = config;
    this.#clock = clock;
    this.#windowMs = config.ttlMs / SLOTS;
    this.#reserve = config.minRetriesPerSecond * (config.ttlMs / 1000);
    this.#windowStart = clock.monotonic();
  }

  /** Call once per original (non-retry) request to the cluster. */
  recordRequest(): void {
    this.#expire();
    this.#writer += this.config.percent;
  }

  /** Call before each retry; false means the budget is spent: do not retry. */
  tryRetry(): boolean {
    this.#expire();
    if (this.#balance() >= 1) {
      this.#writer -= 1;
      this.counters.retries_allowed++;
      return true;
    }
    this.counters.upstream_rq_retry_overflow++;
    return false;
  }

  /** Retries the budget would allow right now (for stats and `/clusters`). */
  available(): number {
    this.#expire();
    return Math.max(0, Math.floor(this.#balance()));
  }

  #balance(): number {
    let sum = this.#writer + this.#reserve;
    for (let i = 0; i < SLOTS; i++) sum += this.#slots[i]!;
    return sum;
  }

  /** Moves the writer into its slot once a window has passed and zeroes the slots that aged out. */
  #expire(): void {
    const now = this.#clock.monotonic();
    let elapsed = now - this.#windowStart;
    if (elapsed < this.#windowMs) return;
    this.#slots[this.#index] = this.#writer;
    this.#writer = 0;
    let idx = (this.#index + 1) % SLOTS;
    for (let cleared = 0; elapsed > this.#windowMs && cleared < SLOTS; cleared++) {
      this.#slots[idx] = 0;
      elapsed -= this.#windowMs;
      idx = (idx + 1) % SLOTS;
    }
    this.#index = idx;
    this.#windowStart = now;
  }
}
