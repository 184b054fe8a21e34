// Envoy's timer-filled token bucket: full at start, `tokensPerFill` more at each fill boundary.

import type { Clock } from '../../shared/clock.js';

export interface TokenBucketConfig {
  maxTokens: number;
  /** Default 1. */
  tokensPerFill: number;
  fillIntervalMs: number;
}

/**
 * Envoy refills on a timer; here the refill is computed at the next use from the number of fill
 * boundaries crossed since the bucket was made, which gives the same answers without a timer.
 */
export class TokenBucket {
  readonly config: TokenBucketConfig;
  readonly #clock: Clock;
  readonly #start: number;
  #tokens: number;
  #fills = 0;

  constructor(config: TokenBucketConfig, clock: Clock) {
    this.config = config;
    this.#clock = clock;
    this.#start = clock.monotonic();
    this.#tokens = config.maxTokens;
  }

  /** Takes one token if there is one. */
  consume(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens--;
    return true;
  }

  get remaining(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Milliseconds until the next fill (for `x-ratelimit-reset`). */
  msUntilFill(): number {
    const elapsed = this.#clock.monotonic() - this.#start;
    return this.config.fillIntervalMs - (elapsed % this.config.fillIntervalMs);
  }

  /** Tokens per second, to order descriptor buckets as Envoy does (slowest first). */
  get fillRate(): number {
    return (this.config.tokensPerFill * 1000) / this.config.fillIntervalMs;
  }

  #refill(): void {
    const fills = Math.floor((this.#clock.monotonic() - this.#start) / this.config.fillIntervalMs);
    if (fills <= this.#fills) return;
    this.#tokens = Math.min(
      this.config.maxTokens,
      this.#tokens + (fills - this.#fills) * this.config.tokensPerFill,
    );
    this.#fills = fills;
  }
}
