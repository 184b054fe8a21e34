// Public API of the global rate limit service.

export {
  type DescriptorNode,
  parseRateLimitConfig,
  type RateLimitConfigSet,
  type RateLimitRule,
} from './config.js';
export { findLimit } from './limits.js';
export { MemoryCounterStore } from './memory-store.js';
export { RedisCounterStore, type RedisCounterStoreOptions } from './redis-store.js';
export {
  loadRateLimitConfig,
  type RunningRateLimitService,
  type RunRateLimitOptions,
  runRateLimitService,
} from './run.js';
export { type RateLimitServerOptions, type RunningRateLimitServer, startRateLimitServer } from './server.js';
export {
  DEFAULT_HEADER_NAMES,
  InvalidRateLimitRequest,
  RateLimitDecider,
  type RateLimitHeaderNames,
  type RateLimitServiceOptions,
  type RuleStats,
} from './service.js';
export type { CounterIncrement, CounterStore } from './store.js';
export { isUnit, type RateLimitUnit, UNIT_SECONDS } from './units.js';
