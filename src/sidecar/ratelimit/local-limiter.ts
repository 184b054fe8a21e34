// The local rate limit decision (Envoy's local_ratelimit filter): token buckets, shadow mode, headers.

import { type Clock, systemClock } from '../../shared/clock.js';
import type { Descriptor } from './descriptors.js';
import type { HeaderToAdd } from './headers.js';
import type { LocalRateLimitConfig } from './local-config.js';
import { TokenBucket } from './token-bucket.js';

/** `<stat_prefix>.http_local_rate_limit.{enabled,enforced,rate_limited,ok}`. */
export interface LocalRateLimitStats {
  enabled: number;
  enforced: number;
  rate_limited: number;
  ok: number;
}

export type LocalRateLimitDecision =
  | {
      limited: false;
      /** Headers for the upstream request (limited but not enforced: `request_headers_to_add_when_not_enforced`). */
      requestHeadersToAdd: readonly HeaderToAdd[];
      /** Headers for the eventual response (`x-ratelimit-*` when enabled). */
      responseHeadersToAdd: readonly HeaderToAdd[];
    }
  | {
      limited: true;
      /** The local reply: status (429), body `local_rate_limited`, flag RL. */
      status: number;
      body: 'local_rate_limited';
      flag: 'RL';
      /** For gRPC requests: UNAVAILABLE (14), or RESOURCE_EXHAUSTED (8) when configured. */
      grpcStatus: 8 | 14;
      responseHeadersToAdd: readonly HeaderToAdd[];
    };

const NOTHING: readonly HeaderToAdd[] = Object.freeze([]);

interface DescriptorBucket {
  key: string;
  bucket: TokenBucket;
}

/** One set of buckets for one config (the listener's, a route's, or a connection's). */
export class LocalRateLimiter {
  readonly config: LocalRateLimitConfig;
  readonly stats: LocalRateLimitStats = { enabled: 0, enforced: 0, rate_limited: 0, ok: 0 };
  readonly #default: TokenBucket | undefined;
  readonly #descriptors = new Map<string, TokenBucket>();
  readonly #random: () => number;

  constructor(config: LocalRateLimitConfig, opts: { clock?: Clock; random?: () => number } = {}) {
    const clock = opts.clock ?? systemClock;
    this.config = config;
    this.#random = opts.random ?? Math.random;
    this.#default = config.tokenBucket ? new TokenBucket(config.tokenBucket, clock) : undefined;
    for (const d of config.descriptors)
      this.#descriptors.set(descriptorKey(d.entries), new TokenBucket(d.tokenBucket, clock));
  }

  /** Decides one request; `descriptors` are the route's for this filter's stage. */
  check(descriptors: readonly Descriptor[] = []): LocalRateLimitDecision {
    const c = this.config;
    if (!this.#roll(c.filterEnabled))
      return { limited: false, requestHeadersToAdd: NOTHING, responseHeadersToAdd: NOTHING };
    this.stats.enabled++;
    const { allowed, bucket } = this.#consume(descriptors);
    const xHeaders = c.xRateLimitHeaders && bucket ? rateLimitHeaders(bucket) : NOTHING;
    if (allowed) {
      this.stats.ok++;
      return { limited: false, requestHeadersToAdd: NOTHING, responseHeadersToAdd: xHeaders };
    }
    this.stats.rate_limited++;
    if (!this.#roll(c.filterEnforced)) {
      return {
        limited: false,
        requestHeadersToAdd: c.requestHeadersToAddWhenNotEnforced,
        responseHeadersToAdd: xHeaders,
      };
    }
    this.stats.enforced++;
    return {
      limited: true,
      status: c.status,
      body: 'local_rate_limited',
      flag: 'RL',
      grpcStatus: c.rateLimitedAsResourceExhausted ? 8 : 14,
      responseHeadersToAdd: xHeaders.length
        ? [...c.responseHeadersToAdd, ...xHeaders]
        : c.responseHeadersToAdd,
    };
  }

  #roll(fraction: number): boolean {
    if (fraction >= 1) return true;
    if (fraction <= 0) return false;
    return this.#random() < fraction;
  }

  /**
   * Envoy's `requestAllowed`: matching descriptor buckets are tried slowest-filling first; the
   * default bucket is also charged unless a descriptor matched and `always_consume_default_token_bucket`
   * is off.
   */
  #consume(descriptors: readonly Descriptor[]): { allowed: boolean; bucket: TokenBucket | undefined } {
    let matched: DescriptorBucket[] | undefined;
    for (const d of descriptors) {
      const key = descriptorKey(d.entries);
      const bucket = this.#descriptors.get(key);
      if (!bucket) continue;
      if (!matched) matched = [];
      matched.push({ key, bucket });
    }
    if (matched && matched.length > 1) matched.sort((a, b) => a.bucket.fillRate - b.bucket.fillRate);
    if (matched) {
      for (const m of matched) if (!m.bucket.consume()) return { allowed: false, bucket: m.bucket };
    }
    if (!matched || this.config.alwaysConsumeDefaultTokenBucket) {
      if (!this.#default) return { allowed: true, bucket: matched?.[0]?.bucket };
      return { allowed: this.#default.consume(), bucket: this.#default };
    }
    return { allowed: true, bucket: matched[0]!.bucket };
  }
}

function descriptorKey(entries: readonly { key: string; value: string }[]): string {
  return entries.map((e) => `${e.key}\u0000${e.value}`).join('\u0001');
}

/** Envoy's DRAFT_VERSION_03 headers: limit, remaining, seconds to the next fill. */
function rateLimitHeaders(bucket: TokenBucket): HeaderToAdd[] {
  return [
    {
      name: 'x-ratelimit-limit',
      value: String(bucket.config.maxTokens),
      action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
    { name: 'x-ratelimit-remaining', value: String(bucket.remaining), action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    {
      name: 'x-ratelimit-reset',
      value: String(Math.ceil(bucket.msUntilFill() / 1000)),
      action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
  ];
}
