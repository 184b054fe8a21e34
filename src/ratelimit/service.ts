// The rate limit decision of envoyproxy/ratelimit: fixed windows per descriptor, shadow mode, headers.

import { create } from '@bufbuild/protobuf';
import { type Clock, systemClock } from '../shared/clock.js';
import { TrellisError } from '../shared/errors.js';
import { type HeaderValue, HeaderValueSchema } from '../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type RateLimitRequest,
  type RateLimitResponse,
  RateLimitResponse_Code,
  type RateLimitResponse_DescriptorStatus,
  RateLimitResponse_DescriptorStatusSchema,
  RateLimitResponseSchema,
} from '../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import type { RateLimitConfigSet, RateLimitRule } from './config.js';
import { findLimit } from './limits.js';
import type { CounterIncrement, CounterStore } from './store.js';
import { UNIT_SECONDS, unitToProto } from './units.js';

/** Per limit (`<domain>.<key>_<value>…`), the reference service's stat names. */
export interface RuleStats {
  total_hits: number;
  over_limit: number;
  near_limit: number;
  within_limit: number;
  shadow_mode: number;
}

export interface RateLimitHeaderNames {
  limit: string;
  remaining: string;
  reset: string;
}

export interface RateLimitServiceOptions {
  config: RateLimitConfigSet;
  store: CounterStore;
  clock?: Clock;
  /** Prefix of every counter key (the reference service's CACHE_KEY_PREFIX). */
  keyPrefix?: string;
  /**
   * Add limit/remaining/reset headers of the descriptor closest to its limit to every answer (the
   * reference service's LIMIT_RESPONSE_HEADERS_ENABLED). Default on, with these names.
   */
  responseHeaders?: RateLimitHeaderNames | false;
  /** Hits at or above this share of the limit count as `near_limit` (default 0.8). */
  nearLimitRatio?: number;
}

export const DEFAULT_HEADER_NAMES: RateLimitHeaderNames = Object.freeze({
  limit: 'x-ratelimit-limit',
  remaining: 'x-ratelimit-remaining',
  reset: 'x-ratelimit-reset',
});

/** An invalid request (the RPC answers INVALID_ARGUMENT). */
export class InvalidRateLimitRequest extends TrellisError {}

export class RateLimitDecider {
  #config: RateLimitConfigSet;
  readonly #store: CounterStore;
  readonly #clock: Clock;
  readonly #prefix: string;
  readonly #headers: RateLimitHeaderNames | false;
  readonly #nearLimitRatio: number;
  readonly #stats = new Map<string, RuleStats>();

  constructor(opts: RateLimitServiceOptions) {
    this.#config = opts.config;
    this.#store = opts.store;
    this.#clock = opts.clock ?? systemClock;
    this.#prefix = opts.keyPrefix ?? '';
    this.#headers = opts.responseHeaders ?? DEFAULT_HEADER_NAMES;
    this.#nearLimitRatio = opts.nearLimitRatio ?? 0.8;
  }

  /** A config reload takes effect for the next request; counters live on in the store. */
  setConfig(config: RateLimitConfigSet): void {
    this.#config = config;
  }

  stats(): ReadonlyMap<string, Readonly<RuleStats>> {
    return this.#stats;
  }

  async shouldRateLimit(req: RateLimitRequest): Promise<RateLimitResponse> {
    if (!req.domain)
      throw new InvalidRateLimitRequest('RATELIMIT_REQUEST', 'rate limit domain must not be empty');
    if (req.descriptors.length === 0) {
      throw new InvalidRateLimitRequest('RATELIMIT_REQUEST', 'rate limit descriptor list must not be empty');
    }
    const hits = Math.max(1, req.hitsAddend);
    const nowSeconds = Math.floor(this.#clock.now() / 1000);
    const rules = req.descriptors.map((d) => findLimit(this.#config, req.domain, d));
    const increments: CounterIncrement[] = [];
    const counted: number[] = [];
    rules.forEach((rule, i) => {
      if (!rule || rule.unlimited) return;
      const window = UNIT_SECONDS[rule.unit];
      const entries = req.descriptors[i]!.entries.map((e) => `${e.key}_${e.value}_`).join('');
      const key = `${this.#prefix}${req.domain}_${entries}${Math.floor(nowSeconds / window) * window}`;
      increments.push({ key, hits, ttlSeconds: window });
      counted.push(i);
    });
    const after = await this.#store.increment(increments);

    const statuses = rules.map(() =>
      create(RateLimitResponse_DescriptorStatusSchema, { code: RateLimitResponse_Code.OK }),
    );
    counted.forEach((i, j) => {
      statuses[i] = this.#status(rules[i]!, after[j]!, hits, nowSeconds);
    });

    let overall = RateLimitResponse_Code.OK;
    let closest: RateLimitResponse_DescriptorStatus | undefined;
    for (const s of statuses) {
      if (s.code === RateLimitResponse_Code.OVER_LIMIT) {
        overall = RateLimitResponse_Code.OVER_LIMIT;
        closest = s;
        break;
      }
      if (s.currentLimit && (!closest || s.limitRemaining < closest.limitRemaining)) closest = s;
    }
    const responseHeadersToAdd: HeaderValue[] = [];
    if (this.#headers && closest?.currentLimit) {
      responseHeadersToAdd.push(
        header(this.#headers.limit, String(closest.currentLimit.requestsPerUnit)),
        header(this.#headers.remaining, String(closest.limitRemaining)),
        header(this.#headers.reset, String(closest.durationUntilReset?.seconds ?? 0n)),
      );
    }
    return create(RateLimitResponseSchema, { overallCode: overall, statuses, responseHeadersToAdd });
  }

  /** envoyproxy/ratelimit's `GetResponseDescriptorStatus` for one counted descriptor. */
  #status(
    rule: RateLimitRule,
    after: number,
    hits: number,
    nowSeconds: number,
  ): RateLimitResponse_DescriptorStatus {
    const stats = this.#ruleStats(rule.fullKey);
    stats.total_hits += hits;
    const limit = rule.requestsPerUnit;
    const before = after - hits;
    const window = UNIT_SECONDS[rule.unit];
    const currentLimit = { requestsPerUnit: limit, unit: unitToProto(rule.unit), name: rule.name };
    const durationUntilReset = { seconds: BigInt(window - (nowSeconds % window)), nanos: 0 };
    let code: RateLimitResponse_Code;
    let remaining = 0;
    if (after > limit) {
      code = RateLimitResponse_Code.OVER_LIMIT;
      // Of this request's hits, those that fit under the limit were still within it.
      const over = before >= limit ? hits : after - limit;
      stats.over_limit += over;
      stats.within_limit += hits - over;
    } else {
      code = RateLimitResponse_Code.OK;
      remaining = limit - after;
      stats.within_limit += hits;
      const nearThreshold = Math.floor(limit * this.#nearLimitRatio);
      if (after > nearThreshold) stats.near_limit += before >= nearThreshold ? hits : after - nearThreshold;
    }
    if (rule.shadowMode) {
      if (code === RateLimitResponse_Code.OVER_LIMIT) stats.shadow_mode += hits;
      code = RateLimitResponse_Code.OK;
    }
    return create(RateLimitResponse_DescriptorStatusSchema, {
      code,
      currentLimit,
      limitRemaining: remaining,
      durationUntilReset,
    });
  }

  #ruleStats(key: string): RuleStats {
    let s = this.#stats.get(key);
    if (!s) {
      s = { total_hits: 0, over_limit: 0, near_limit: 0, within_limit: 0, shadow_mode: 0 };
      this.#stats.set(key, s);
    }
    return s;
  }
}

function header(key: string, value: string): HeaderValue {
  return create(HeaderValueSchema, { key, value });
}
