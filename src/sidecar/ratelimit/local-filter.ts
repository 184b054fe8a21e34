// The local rate limit filter's state across routes and connections: which buckets a request charges.

import type { Clock } from '../../shared/clock.js';
import type { Descriptor } from './descriptors.js';
import type { LocalRateLimitConfig } from './local-config.js';
import { type LocalRateLimitDecision, LocalRateLimiter } from './local-limiter.js';

export interface LocalRateLimitRequest {
  /** The route's `typed_per_filter_config` for this filter, if any: it replaces the listener config. */
  routeConfig?: LocalRateLimitConfig | undefined;
  /** Descriptors from the route's `rate_limits` for the filter's stage. */
  descriptors?: readonly Descriptor[];
  /** Any object identifying the downstream connection (for `local_rate_limit_per_downstream_connection`). */
  connection?: object;
}

/**
 * Buckets live as long as the config object they were made for: a per-route config has its own
 * bucket, unique to that route, and a new RDS/LDS version (new config objects) starts new buckets.
 * Kept in weak maps, so dropped configs and closed connections free their buckets.
 */
export class LocalRateLimitFilter {
  readonly listenerConfig: LocalRateLimitConfig;
  readonly #shared = new WeakMap<LocalRateLimitConfig, LocalRateLimiter>();
  readonly #perConnection = new WeakMap<object, WeakMap<LocalRateLimitConfig, LocalRateLimiter>>();
  readonly #clock: Clock | undefined;
  readonly #random: (() => number) | undefined;

  constructor(listenerConfig: LocalRateLimitConfig, opts: { clock?: Clock; random?: () => number } = {}) {
    this.listenerConfig = listenerConfig;
    this.#clock = opts.clock;
    this.#random = opts.random;
    // Envoy makes the listener's bucket when the config loads; its fill boundaries count from then.
    if (!listenerConfig.perConnection) this.limiterFor({});
  }

  check(req: LocalRateLimitRequest = {}): LocalRateLimitDecision {
    return this.limiterFor(req).check(req.descriptors);
  }

  limiterFor(req: Pick<LocalRateLimitRequest, 'routeConfig' | 'connection'>): LocalRateLimiter {
    const config = req.routeConfig ?? this.listenerConfig;
    let map = this.#shared;
    if (config.perConnection && req.connection) {
      let conn = this.#perConnection.get(req.connection);
      if (!conn) {
        conn = new WeakMap();
        this.#perConnection.set(req.connection, conn);
      }
      map = conn;
    }
    let limiter = map.get(config);
    if (!limiter) {
      const opts: { clock?: Clock; random?: () => number } = {};
      if (this.#clock) opts.clock = this.#clock;
      if (this.#random) opts.random = this.#random;
      limiter = new LocalRateLimiter(config, opts);
      map.set(config, limiter);
    }
    return limiter;
  }
}
