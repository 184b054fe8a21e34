// One circuit-breaker resource: a counter with a limit that a config swap can change in place.

export class ResourceLimit {
  #count = 0;
  #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get count(): number {
    return this.#count;
  }

  get max(): number {
    return this.#max;
  }

  /** A new limit applies to the next acquisition; what is in flight stays counted. */
  set max(value: number) {
    this.#max = value;
  }

  get remaining(): number {
    return Math.max(0, this.#max - this.#count);
  }

  canCreate(): boolean {
    return this.#count < this.#max;
  }

  /** Envoy's `cx_open`, `rq_pending_open`, … gauges: 1 while the breaker is tripped. */
  get open(): boolean {
    return this.#count >= this.#max;
  }

  inc(): void {
    this.#count++;
  }

  dec(): void {
    if (this.#count > 0) this.#count--;
  }

  /** Takes one unit if the limit allows; the caller must `dec()` exactly once afterwards. */
  tryAcquire(): boolean {
    if (this.#count >= this.#max) return false;
    this.#count++;
    return true;
  }
}
