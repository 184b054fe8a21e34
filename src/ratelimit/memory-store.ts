// Fixed-window counters in this process: correct only while a single service replica runs.

import { type Clock, systemClock } from '../shared/clock.js';
import type { CounterIncrement, CounterStore } from './store.js';

export class MemoryCounterStore implements CounterStore {
  readonly #counters = new Map<string, { count: number; expiresAt: number }>();
  readonly #clock: Clock;
  #lastSweep = 0;

  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  async increment(items: readonly CounterIncrement[]): Promise<number[]> {
    const now = this.#clock.now();
    this.#sweep(now);
    return items.map((item) => {
      let c = this.#counters.get(item.key);
      if (!c || c.expiresAt <= now) {
        c = { count: 0, expiresAt: 0 };
        this.#counters.set(item.key, c);
      }
      c.count += item.hits;
      c.expiresAt = now + item.ttlSeconds * 1000;
      return c.count;
    });
  }

  /** Old windows' keys are dropped at most once a second, so memory stays bounded by live windows. */
  #sweep(now: number): void {
    if (now - this.#lastSweep < 1000) return;
    this.#lastSweep = now;
    for (const [key, c] of this.#counters) if (c.expiresAt <= now) this.#counters.delete(key);
  }

  get size(): number {
    return this.#counters.size;
  }

  async close(): Promise<void> {
    this.#counters.clear();
  }
}
