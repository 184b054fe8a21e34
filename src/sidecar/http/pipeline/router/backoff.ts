// Envoy's retry back-off: fully jittered exponential, base 25 ms by default, capped (10 × base by default).

/**
 * The delay before retry number `retry` (1 for the first retry): uniform in [0, (2^retry − 1) × base),
 * never above `maxMs` (Envoy's JitteredExponentialBackOffStrategy). So with 25 ms: 0–24, 0–74, 0–174 ms...
 */
export function retryBackoffMs(retry: number, baseMs: number, maxMs: number, random: () => number): number {
  const ceiling = (2 ** Math.min(Math.max(retry, 1), 30) - 1) * baseMs;
  return Math.min(Math.floor(random() * ceiling), maxMs);
}

/** Envoy's defaults when a policy sets no back-off: 25 ms base, 10 × base cap. */
export const DEFAULT_BACKOFF_BASE_MS = 25;
export function defaultBackoffMaxMs(baseMs: number): number {
  return baseMs * 10;
}
