// Bounds how many streams write at once (Istio's PILOT_PUSH_THROTTLE), so a push to every proxy cannot buffer
// every proxy's config in memory at the same time.

export interface Pushable {
  /** Sends whatever the stream owes; resolves once written (or given up on). */
  flush(): Promise<void>;
}

export class PushQueue {
  readonly #concurrency: number;
  readonly #queued = new Set<Pushable>();
  readonly #active = new Set<Pushable>();
  /** Streams that asked again while flushing: they go back in the queue when done. */
  readonly #again = new Set<Pushable>();
  #idleWaiters: (() => void)[] = [];
  #pumpScheduled = false;

  constructor(opts: { concurrency: number }) {
    if (!(opts.concurrency >= 1))
      throw new RangeError(`push concurrency must be >= 1, got ${opts.concurrency}`);
    this.#concurrency = opts.concurrency;
  }

  get size(): number {
    return this.#queued.size + this.#active.size;
  }

  enqueue(stream: Pushable): void {
    if (this.#active.has(stream)) this.#again.add(stream);
    else this.#queued.add(stream);
    // Deferred a microtask so that requests decoded from one read are answered by one flush.
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      queueMicrotask(() => {
        this.#pumpScheduled = false;
        this.#pump();
      });
    }
  }

  /** Drops a closed stream from the queue. */
  remove(stream: Pushable): void {
    this.#queued.delete(stream);
    this.#again.delete(stream);
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (this.#active.size < this.#concurrency && this.#queued.size > 0) {
      const stream = this.#queued.values().next().value as Pushable;
      this.#queued.delete(stream);
      this.#active.add(stream);
      stream
        .flush()
        .catch(() => {})
        .finally(() => {
          this.#active.delete(stream);
          if (this.#again.delete(stream)) this.#queued.add(stream);
          this.#pump();
        });
    }
    if (this.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
