// Public API of the sidecar's rate limiting: local buckets, descriptors, the global filter and client.

export {
  type Descriptor,
  type DescriptorEntry,
  generateDescriptors,
  maskAddress,
  queryParameterAction,
  type RateLimitPolicyEntry,
  type RateLimitRequestInfo,
  rateLimitPolicyFromProto,
  selectRateLimitPolicies,
} from './descriptors.js';
export {
  GrpcRateLimitClient,
  type GrpcRateLimitClientOptions,
  type RateLimitClient,
} from './global-client.js';
export {
  type GlobalRateLimitConfig,
  globalRateLimitFromJson,
  globalRateLimitFromProto,
} from './global-config.js';
export {
  type GlobalRateLimitDecision,
  GlobalRateLimitFilter,
  type GlobalRateLimitStats,
} from './global-filter.js';
export type { AppendAction, HeaderToAdd } from './headers.js';
export {
  type LocalRateLimitConfig,
  localRateLimitFromJson,
  localRateLimitFromProto,
} from './local-config.js';
export { LocalRateLimitFilter, type LocalRateLimitRequest } from './local-filter.js';
export { type LocalRateLimitDecision, LocalRateLimiter, type LocalRateLimitStats } from './local-limiter.js';
export type { HeaderLookup } from './matchers.js';
export { TokenBucket, type TokenBucketConfig } from './token-bucket.js';
export { decodeTypedConfig } from './typed-config.js';
