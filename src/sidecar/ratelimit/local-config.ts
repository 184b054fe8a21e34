// The local rate limit filter's config (`envoy.filters.http.local_ratelimit`) as internal types.

import { fromProtoDuration } from '../../shared/duration.js';
import { TrellisError } from '../../shared/errors.js';
import type { RuntimeFractionalPercent } from '../../xds/gen/envoy/config/core/v3/base_pb.js';
import {
  VhRateLimitsOptions,
  XRateLimitHeadersRFCVersion,
} from '../../xds/gen/envoy/extensions/common/ratelimit/v3/ratelimit_pb.js';
import type { LocalRateLimit } from '../../xds/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { LocalRateLimitSchema } from '../../xds/gen/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit_pb.js';
import { FractionalPercent_DenominatorType } from '../../xds/gen/envoy/type/v3/percent_pb.js';
import type { TokenBucket as TokenBucketProto } from '../../xds/gen/envoy/type/v3/token_bucket_pb.js';
import type { DescriptorEntry } from './descriptors.js';
import { type HeaderToAdd, headersFromProto } from './headers.js';
import type { TokenBucketConfig } from './token-bucket.js';
import { decodeTypedConfig } from './typed-config.js';

export interface LocalRateLimitConfig {
  statPrefix: string;
  /** Reply status when limited: 429 unless configured (values below 400 become 429). */
  status: number;
  tokenBucket: TokenBucketConfig | undefined;
  /** Fractions in [0, 1]; both default to 0 ("for safety"), so a filter without them never limits. */
  filterEnabled: number;
  filterEnforced: number;
  requestHeadersToAddWhenNotEnforced: HeaderToAdd[];
  responseHeadersToAdd: HeaderToAdd[];
  descriptors: { entries: DescriptorEntry[]; tokenBucket: TokenBucketConfig }[];
  stage: number;
  /** One bucket per downstream connection instead of one per proxy. */
  perConnection: boolean;
  /** `enable_x_ratelimit_headers: DRAFT_VERSION_03`. */
  xRateLimitHeaders: boolean;
  vhRateLimits: 'OVERRIDE' | 'INCLUDE' | 'IGNORE';
  alwaysConsumeDefaultTokenBucket: boolean;
  rateLimitedAsResourceExhausted: boolean;
}

const MIN_FILL_INTERVAL_MS = 50;

/** Decodes the filter's config from EnvoyFilter JSON (typed Any or TypedStruct) or a decoded message. */
export function localRateLimitFromJson(
  json: unknown,
  opts: { perRoute?: boolean; where?: string } = {},
): LocalRateLimitConfig {
  const where = opts.where ?? 'envoy.filters.http.local_ratelimit';
  return localRateLimitFromProto(decodeTypedConfig(json, LocalRateLimitSchema, where), { ...opts, where });
}

export function localRateLimitFromProto(
  msg: LocalRateLimit,
  opts: { perRoute?: boolean; where?: string } = {},
): LocalRateLimitConfig {
  const where = opts.where ?? 'envoy.filters.http.local_ratelimit';
  if (!msg.statPrefix) throw new TrellisError('FILTER_CONFIG', `${where}: stat_prefix is required`);
  if (opts.perRoute && !msg.tokenBucket) {
    throw new TrellisError('FILTER_CONFIG', `${where}: a per-route local rate limit needs a token_bucket`);
  }
  if (msg.stage > 10)
    throw new TrellisError('FILTER_CONFIG', `${where}: stage must be 0-10, got ${msg.stage}`);
  const code = msg.status?.code ?? 429;
  return {
    statPrefix: msg.statPrefix,
    status: code < 400 ? 429 : code,
    tokenBucket: msg.tokenBucket ? tokenBucket(msg.tokenBucket, `${where}.token_bucket`) : undefined,
    filterEnabled: fraction(msg.filterEnabled),
    filterEnforced: fraction(msg.filterEnforced),
    requestHeadersToAddWhenNotEnforced: headersFromProto(msg.requestHeadersToAddWhenNotEnforced),
    responseHeadersToAdd: headersFromProto(msg.responseHeadersToAdd),
    descriptors: msg.descriptors.map((d, i) => {
      const at = `${where}.descriptors[${i}]`;
      if (!d.tokenBucket) throw new TrellisError('FILTER_CONFIG', `${at}: token_bucket is required`);
      if (d.entries.length === 0) throw new TrellisError('FILTER_CONFIG', `${at}: entries must not be empty`);
      return {
        entries: d.entries.map((e) => ({ key: e.key, value: e.value })),
        tokenBucket: tokenBucket(d.tokenBucket, `${at}.token_bucket`),
      };
    }),
    stage: msg.stage,
    perConnection: msg.localRateLimitPerDownstreamConnection,
    xRateLimitHeaders: msg.enableXRatelimitHeaders === XRateLimitHeadersRFCVersion.DRAFT_VERSION_03,
    vhRateLimits:
      msg.vhRateLimits === VhRateLimitsOptions.INCLUDE
        ? 'INCLUDE'
        : msg.vhRateLimits === VhRateLimitsOptions.IGNORE
          ? 'IGNORE'
          : 'OVERRIDE',
    alwaysConsumeDefaultTokenBucket: msg.alwaysConsumeDefaultTokenBucket ?? true,
    rateLimitedAsResourceExhausted: msg.rateLimitedAsResourceExhausted,
  };
}

function tokenBucket(tb: TokenBucketProto, where: string): TokenBucketConfig {
  const fillIntervalMs = fromProtoDuration(tb.fillInterval);
  if (fillIntervalMs === undefined)
    throw new TrellisError('FILTER_CONFIG', `${where}: fill_interval is required`);
  if (fillIntervalMs < MIN_FILL_INTERVAL_MS) {
    throw new TrellisError(
      'FILTER_CONFIG',
      `${where}: fill_interval must be at least ${MIN_FILL_INTERVAL_MS}ms, got ${fillIntervalMs}ms`,
    );
  }
  if (tb.maxTokens < 1) throw new TrellisError('FILTER_CONFIG', `${where}: max_tokens must be > 0`);
  const tokensPerFill = tb.tokensPerFill ?? 1;
  if (tokensPerFill < 1) throw new TrellisError('FILTER_CONFIG', `${where}: tokens_per_fill must be > 0`);
  return { maxTokens: tb.maxTokens, tokensPerFill, fillIntervalMs };
}

/** `RuntimeFractionalPercent.default_value` as a fraction; runtime overrides do not exist here. */
function fraction(p: RuntimeFractionalPercent | undefined): number {
  const v = p?.defaultValue;
  if (!v) return 0;
  const denominator =
    v.denominator === FractionalPercent_DenominatorType.MILLION
      ? 1_000_000
      : v.denominator === FractionalPercent_DenominatorType.TEN_THOUSAND
        ? 10_000
        : 100;
  return Math.min(1, v.numerator / denominator);
}
