// Earliest-deadline-first scheduler: Envoy's weighted round robin with O(log n) picks and float weights.

interface Entry<T> {
  deadline: number;
  /** Insertion order breaks ties, so equal deadlines are served first in, first out. */
  order: number;
  item: T;
}

/**
 * Each pick takes the entry with the earliest deadline and re-inserts it at `now + 1/weight`, where
 * the weight is asked again at that moment (least request uses the live request count).
 */
export class EdfScheduler<T> {
  #heap: Entry<T>[] = [];
  #now = 0;
  #order = 0;
  readonly #weightOf: (item: T) => number;

  constructor(items: readonly T[], weightOf: (item: T) => number, initialPicks = 0) {
    this.#weightOf = weightOf;
    for (const item of items) this.#push(item);
    // Envoy starts each scheduler at a random offset so that proxies do not march in lockstep.
    for (let i = 0; i < initialPicks; i++) this.pick();
  }

  get size(): number {
    return this.#heap.length;
  }

  pick(): T | undefined {
    const top = this.#heap[0];
    if (!top) return undefined;
    this.#now = top.deadline;
    const last = this.#heap.pop()!;
    if (this.#heap.length > 0) {
      this.#heap[0] = last;
      this.#siftDown(0);
    }
    this.#push(top.item);
    return top.item;
  }

  #push(item: T): void {
    const w = this.#weightOf(item);
    const entry = { deadline: this.#now + 1 / (w > 0 ? w : Number.MIN_VALUE), order: this.#order++, item };
    this.#heap.push(entry);
    this.#siftUp(this.#heap.length - 1);
  }

  #less(a: Entry<T>, b: Entry<T>): boolean {
    return a.deadline < b.deadline || (a.deadline === b.deadline && a.order < b.order);
  }

  #siftUp(i: number): void {
    const heap = this.#heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) return;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #siftDown(i: number): void {
    const heap = this.#heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < heap.length && this.#less(heap[l]!, heap[min]!)) min = l;
      if (r < heap.length && this.#less(heap[r]!, heap[min]!)) min = r;
      if (min === i) return;
      [heap[i], heap[min]] = [heap[min]!, heap[i]!];
      i = min;
    }
  }
}
