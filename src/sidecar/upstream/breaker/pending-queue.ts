// The bounded queue of requests waiting for a connection: overflow is answered at once, slots go FIFO.

import { TrellisError } from '../../../shared/errors.js';
import type { BreakerCounters } from './circuit-breakers.js';
import type { ResourceLimit } from './resource.js';

interface Waiter<S> {
  resolve(slot: S): void;
  reject(err: Error): void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export interface PendingQueueOptions {
  /** The cluster's `pendingRequests` resource (`max_pending_requests`), shared by its pools. */
  limit: ResourceLimit;
  counters: BreakerCounters;
  /** For messages: the cluster name. */
  cluster: string;
}

/**
 * A pool calls `wait()` when it has no free connection for a request and `offer(slot)` whenever one
 * frees up or connects. `wait()` returns `undefined` when the queue is full: the caller replies 503
 * with flag UO right away (Envoy never queues beyond `max_pending_requests`).
 */
export class PendingQueue<S> {
  readonly #waiters: Waiter<S>[] = [];
  readonly #opts: PendingQueueOptions;

  constructor(opts: PendingQueueOptions) {
    this.#opts = opts;
  }

  get length(): number {
    return this.#waiters.length;
  }

  wait(signal?: AbortSignal): Promise<S> | undefined {
    if (!this.#opts.limit.tryAcquire()) {
      this.#opts.counters.upstream_rq_pending_overflow++;
      return undefined;
    }
    this.#opts.counters.upstream_rq_pending_total++;
    return new Promise<S>((resolve, reject) => {
      const waiter: Waiter<S> = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        if (signal.aborted) {
          this.#opts.limit.dec();
          reject(abortError(this.#opts.cluster, signal));
          return;
        }
        waiter.onAbort = () => {
          const i = this.#waiters.indexOf(waiter);
          if (i === -1) return;
          this.#waiters.splice(i, 1);
          this.#opts.limit.dec();
          reject(abortError(this.#opts.cluster, signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.#waiters.push(waiter);
    });
  }

  /** Hands the slot to the oldest waiter; false when nobody waits (the pool keeps the slot). */
  offer(slot: S): boolean {
    const waiter = this.#waiters.shift();
    if (!waiter) return false;
    this.#opts.limit.dec();
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(slot);
    return true;
  }

  /** Fails every waiter (the pool is draining or its host went away). */
  rejectAll(err: Error): void {
    for (const waiter of this.#waiters.splice(0)) {
      this.#opts.limit.dec();
      if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
      waiter.reject(err);
    }
  }
}

function abortError(cluster: string, signal: AbortSignal): Error {
  return new TrellisError(
    'PENDING_ABORTED',
    `request gave up waiting for a connection to cluster "${cluster}"`,
    undefined,
    { cause: signal.reason },
  );
}
