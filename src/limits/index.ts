export type {
  RateLimitDecision,
  RateLimiter,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimiterTuning,
  RateLimitKind,
} from './rate-limiter.js';
export { createRateLimiter, RATE_LIMITER_DEFAULTS } from './rate-limiter.js';
