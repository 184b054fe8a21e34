// The global rate limit decision (Envoy's ratelimit filter): ask the service, apply the failure mode.

import { errorMessage } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/log.js';
import type { HeaderValue } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  type RateLimitResponse,
  RateLimitResponse_Code,
} from '../../xds/gen/envoy/service/ratelimit/v3/rls_pb.js';
import type { Descriptor } from './descriptors.js';
import type { RateLimitClient } from './global-client.js';
import type { GlobalRateLimitConfig } from './global-config.js';
import type { HeaderToAdd } from './headers.js';

/** Envoy's `cluster.<cluster>.ratelimit.{ok,over_limit,error,failure_mode_allowed}`. */
export interface GlobalRateLimitStats {
  ok: number;
  over_limit: number;
  error: number;
  failure_mode_allowed: number;
}

export type GlobalRateLimitDecision =
  | {
      action: 'allow';
      /** The service's `request_headers_to_add`, for the upstream request. */
      requestHeadersToAdd: readonly HeaderToAdd[];
      /** The service's `response_headers_to_add` (and `x-ratelimit-*` when enabled). */
      responseHeadersToAdd: readonly HeaderToAdd[];
      /** The service failed and the filter let the request through (fail open). */
      failedOpen: boolean;
    }
  | {
      action: 'deny';
      /** 429 (RL) when over the limit; `status_on_error` (RLSE) when failing closed. */
      status: number;
      flag: 'RL' | 'RLSE';
      /** For gRPC requests: UNAVAILABLE (14), or RESOURCE_EXHAUSTED (8) when configured. */
      grpcStatus: 8 | 14;
      body: string;
      responseHeadersToAdd: readonly HeaderToAdd[];
      /** Why, for `x-trellis-reason` and logs. */
      reason: string;
    };

const NONE: readonly HeaderToAdd[] = Object.freeze([]);

export class GlobalRateLimitFilter {
  readonly config: GlobalRateLimitConfig;
  readonly stats: GlobalRateLimitStats = { ok: 0, over_limit: 0, error: 0, failure_mode_allowed: 0 };
  readonly #client: RateLimitClient | undefined;
  readonly #logger: Logger;

  /** Without a client (no `rate_limit_service`), every request passes, as in Envoy. */
  constructor(opts: { config: GlobalRateLimitConfig; client?: RateLimitClient; logger?: Logger }) {
    this.config = opts.config;
    this.#client = opts.client;
    this.#logger = opts.logger ?? silentLogger;
  }

  /** `descriptors` come from the route's `rate_limits` for the filter's stage; none means no call. */
  async check(descriptors: readonly Descriptor[], hitsAddend = 0): Promise<GlobalRateLimitDecision> {
    if (descriptors.length === 0 || !this.#client) return allow(NONE, NONE, false);
    let res: RateLimitResponse;
    try {
      res = await this.#client.shouldRateLimit(
        {
          domain: this.config.domain,
          descriptors: descriptors.map((d) => ({ entries: d.entries })),
          hitsAddend,
        },
        this.config.timeoutMs,
      );
    } catch (e) {
      this.stats.error++;
      if (!this.config.failureModeDeny) {
        this.stats.failure_mode_allowed++;
        this.#logger.debug('rate limit service failed; allowing the request', { error: errorMessage(e) });
        return allow(NONE, NONE, true);
      }
      return {
        action: 'deny',
        status: this.config.statusOnError,
        flag: 'RLSE',
        grpcStatus: 14,
        body: '',
        responseHeadersToAdd: NONE,
        reason: `rate limit service for domain "${this.config.domain}" failed and failure_mode_deny is set: ${errorMessage(e)}`,
      };
    }
    const fromService = toHeaders(res.responseHeadersToAdd);
    const xHeaders = this.config.xRateLimitHeaders ? rateLimitHeaders(res) : NONE;
    if (res.overallCode === RateLimitResponse_Code.OVER_LIMIT) {
      this.stats.over_limit++;
      const headers = [...fromService, ...xHeaders, ...this.config.responseHeadersToAdd];
      if (!this.config.disableXEnvoyRateLimitedHeader) {
        headers.push({ name: 'x-envoy-ratelimited', value: 'true', action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
      }
      return {
        action: 'deny',
        status: this.config.rateLimitedStatus,
        flag: 'RL',
        grpcStatus: this.config.rateLimitedAsResourceExhausted ? 8 : 14,
        body: new TextDecoder().decode(res.rawBody),
        responseHeadersToAdd: headers,
        reason: `over the limit of domain "${this.config.domain}" for ${describe(descriptors)}`,
      };
    }
    this.stats.ok++;
    return allow(toHeaders(res.requestHeadersToAdd), [...fromService, ...xHeaders], false);
  }
}

function allow(
  request: readonly HeaderToAdd[],
  response: readonly HeaderToAdd[],
  failedOpen: boolean,
): GlobalRateLimitDecision {
  return { action: 'allow', requestHeadersToAdd: request, responseHeadersToAdd: response, failedOpen };
}

function toHeaders(list: readonly HeaderValue[]): HeaderToAdd[] {
  return list.map((h) => ({
    name: h.key.toLowerCase(),
    value: h.value,
    action: 'OVERWRITE_IF_EXISTS_OR_ADD',
  }));
}

function describe(descriptors: readonly Descriptor[]): string {
  return descriptors.map((d) => d.entries.map((e) => `${e.key}=${e.value}`).join(',')).join(' | ');
}

const UNIT_SECONDS = [0, 1, 60, 3600, 86_400, 86_400 * 30, 86_400 * 365];

/** Envoy's DRAFT_VERSION_03 headers from the statuses; values of the status closest to its limit. */
function rateLimitHeaders(res: RateLimitResponse): HeaderToAdd[] {
  let closest: RateLimitResponse['statuses'][number] | undefined;
  const policies: string[] = [];
  for (const s of res.statuses) {
    if (!s.currentLimit) continue;
    if (!closest || s.limitRemaining < closest.limitRemaining) closest = s;
    const window = UNIT_SECONDS[s.currentLimit.unit] ?? 0;
    policies.push(
      `${s.currentLimit.requestsPerUnit};w=${window}${s.currentLimit.name ? `;name="${s.currentLimit.name}"` : ''}`,
    );
  }
  if (!closest?.currentLimit) return [];
  return [
    {
      name: 'x-ratelimit-limit',
      value: [String(closest.currentLimit.requestsPerUnit), ...policies].join(', '),
      action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
    {
      name: 'x-ratelimit-remaining',
      value: String(closest.limitRemaining),
      action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
    {
      name: 'x-ratelimit-reset',
      value: String(closest.durationUntilReset?.seconds ?? 0n),
      action: 'OVERWRITE_IF_EXISTS_OR_ADD',
    },
  ];
}
