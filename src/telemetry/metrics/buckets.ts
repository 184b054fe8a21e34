// Histogram bucket boundaries: Envoy's defaults (what Istio emits) and Istio's per-pod override annotation.

import { TrellisError } from '../../shared/errors.js';

/** Envoy `source/common/stats/histogram_impl.cc` defaultBuckets(); `+Inf` is implicit. */
export const ENVOY_DEFAULT_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]);

export const HISTOGRAM_BUCKETS_ANNOTATION = 'sidecar.istio.io/statsHistogramBuckets';

/** The stat prefix Istio uses for its standard metrics inside the annotation (`{"istiocustom": [...]}`). */
export const ISTIO_STATS_PREFIX = 'istiocustom';

/** Sorted, de-duplicated, finite, and at least one bound: otherwise a coded error naming the source. */
export function validateBuckets(bounds: readonly number[], source: string): number[] {
  const out = [...new Set(bounds)].sort((a, b) => a - b);
  if (out.length === 0)
    throw new TrellisError('TELEMETRY_BUCKETS', `${source}: a histogram needs at least one bucket`);
  for (const b of out) {
    if (typeof b !== 'number' || !Number.isFinite(b)) {
      throw new TrellisError(
        'TELEMETRY_BUCKETS',
        `${source}: bucket bound ${String(b)} is not a finite number`,
      );
    }
  }
  return out;
}

/**
 * Parses the `sidecar.istio.io/statsHistogramBuckets` pod annotation: a JSON object from a stat prefix
 * (`istiocustom`, `cluster_manager`, ...) to bucket bounds. Returns a map prefix -> sorted bounds.
 */
export function parseHistogramBucketsAnnotation(
  annotations: Readonly<Record<string, string>> | undefined,
  podName = 'pod',
): Map<string, number[]> {
  const raw = annotations?.[HISTOGRAM_BUCKETS_ANNOTATION];
  const out = new Map<string, number[]>();
  if (!raw) return out;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (e) {
    throw new TrellisError(
      'TELEMETRY_BUCKETS',
      `annotation ${HISTOGRAM_BUCKETS_ANNOTATION} on ${podName} is not JSON: ${(e as Error).message}`,
    );
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new TrellisError(
      'TELEMETRY_BUCKETS',
      `annotation ${HISTOGRAM_BUCKETS_ANNOTATION} on ${podName} must be an object of prefix -> [bounds]`,
    );
  }
  for (const [prefix, bounds] of Object.entries(parsed as Record<string, unknown>)) {
    if (!Array.isArray(bounds)) {
      throw new TrellisError(
        'TELEMETRY_BUCKETS',
        `annotation ${HISTOGRAM_BUCKETS_ANNOTATION} on ${podName}: "${prefix}" must be an array of numbers`,
      );
    }
    out.set(
      prefix,
      validateBuckets(
        bounds as number[],
        `annotation ${HISTOGRAM_BUCKETS_ANNOTATION} on ${podName} "${prefix}"`,
      ),
    );
  }
  return out;
}

/** Bounds for Istio's standard histograms on a pod: the `istiocustom` override, else Envoy's defaults. */
export function istioHistogramBuckets(
  annotations?: Readonly<Record<string, string>>,
  podName?: string,
): readonly number[] {
  return (
    parseHistogramBucketsAnnotation(annotations, podName).get(ISTIO_STATS_PREFIX) ?? ENVOY_DEFAULT_BUCKETS
  );
}
