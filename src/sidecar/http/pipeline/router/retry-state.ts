// One request's retries: the count left, the cluster's retry slot (max_retries / budget), back-off, stats.

import type { Clock } from '../../../../shared/clock.js';
import type { ClusterStats } from '../../../../telemetry/stats/store.js';
import type { UpstreamCluster } from '../../../runtime/contracts.js';
import type { Body } from '../../body.js';
import type { CancelSignal } from '../../cancel.js';
import { retryBackoffMs } from './backoff.js';
import { sleep } from './deadline.js';
import type { EffectiveRetryPolicy } from './retry-policy.js';

/**
 * `retry` after the back-off; `limit` (num_retries spent: URX), `overflow` (the cluster refused: UO),
 * `unreplayable` (the body outgrew its replay buffer), `aborted` (route timeout or downstream gone).
 */
export type RetryDecision = 'retry' | 'limit' | 'overflow' | 'unreplayable' | 'aborted';

export interface RetryStateInit {
  policy: EffectiveRetryPolicy;
  cluster: UpstreamCluster;
  stats: ClusterStats;
  clock: Clock;
  random: () => number;
  /** Aborts a back-off (the route deadline, which follows the downstream). */
  signal: CancelSignal;
  /** The request body as the attempts read it (replayable, or not). */
  body: Body;
}

/** Created only for requests with a retry policy: requests without one pay for none of this. */
export class RetryState {
  readonly policy: EffectiveRetryPolicy;
  readonly #o: RetryStateInit;
  #left: number;
  #number = 0;
  #holding = false;

  constructor(init: RetryStateInit) {
    this.#o = init;
    this.policy = init.policy;
    this.#left = init.policy.numRetries;
  }

  /** An attempt ended: give the cluster its retry slot back (Envoy holds it until the retry's outcome). */
  release(): void {
    if (this.#holding) {
      this.#holding = false;
      this.#o.cluster.retryFinished();
    }
  }

  /** The response is final and not retried: a retry that produced it counts as `upstream_rq_retry_success`. */
  final(): void {
    if (this.#holding) this.#o.stats.upstream_rq_retry_success.inc();
    this.release();
  }

  /** Envoy's shouldRetry: count, replayability, the cluster's slot, then the jittered back-off. */
  async decide(): Promise<RetryDecision> {
    const o = this.#o;
    this.release();
    if (this.#left === 0) return 'limit';
    this.#left--;
    if (!o.body.replayable) return 'unreplayable';
    if (!o.cluster.tryStartRetry()) {
      o.stats.upstream_rq_retry_overflow.inc();
      return 'overflow';
    }
    this.#holding = true;
    o.stats.upstream_rq_retry.inc();
    this.#number++;
    const wait = retryBackoffMs(this.#number, this.policy.backoffBaseMs, this.policy.backoffMaxMs, o.random);
    return (await sleep(o.clock, wait, o.signal)) ? 'retry' : 'aborted';
  }
}
