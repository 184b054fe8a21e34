// Traffic health as Kiali judges it; shared by the graph handler and the dashboard (no imports beyond types).

import type { Health } from './types.js';

// A rate computed from counters can land a hair under a threshold it exactly meets.
const EPSILON = 1e-9;

/** Kiali's default traffic health: 5xx > 0 % degraded, > 10 % failing; 4xx >= 10 % degraded, > 20 % failing. */
export function healthOf(s: { requestRate: number; rate4xx: number; rate5xx: number }): Health {
  if (!(s.requestRate > 0)) return 'idle';
  const p5 = (100 * s.rate5xx) / s.requestRate;
  const p4 = (100 * s.rate4xx) / s.requestRate;
  if (p5 > 10 + EPSILON || p4 > 20 + EPSILON) return 'failing';
  if (p5 > EPSILON || p4 >= 10 - EPSILON) return 'degraded';
  return 'healthy';
}
