// Where fixed-window counters live: one interface, a Redis store for replicas and a memory store.

export interface CounterIncrement {
  key: string;
  hits: number;
  /** The window length; the counter expires after it, as envoyproxy/ratelimit sets EXPIRE. */
  ttlSeconds: number;
}

export interface CounterStore {
  /** Adds the hits to every key and returns each key's count after the increment, in order. */
  increment(items: readonly CounterIncrement[]): Promise<number[]>;
  close(): Promise<void>;
}
