// Prometheus's own arithmetic for rate() and histogram_quantile(), so the embedded store answers like Prometheus.

/**
 * `rate()` over samples in [rangeStart, rangeEnd] (ms), as Prometheus 2.x extrapolatedRate(): counter resets
 * are corrected, and the result is extrapolated to the window edges when the samples come close enough to
 * them. Fewer than two samples give undefined (Prometheus drops the series).
 */
export function promRate(
  t: readonly number[],
  v: readonly number[],
  rangeStart: number,
  rangeEnd: number,
): number | undefined {
  const n = t.length;
  if (n < 2) return undefined;
  let result = v[n - 1]! - v[0]!;
  let last = 0;
  for (const x of v) {
    if (x < last) result += last;
    last = x;
  }
  let durationToStart = (t[0]! - rangeStart) / 1000;
  const durationToEnd = (rangeEnd - t[n - 1]!) / 1000;
  const sampledInterval = (t[n - 1]! - t[0]!) / 1000;
  const avg = sampledInterval / (n - 1);
  if (result > 0 && v[0]! >= 0) {
    const durationToZero = sampledInterval * (v[0]! / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  const threshold = avg * 1.1;
  let extrapolateTo = sampledInterval;
  extrapolateTo += durationToStart < threshold ? durationToStart : avg / 2;
  extrapolateTo += durationToEnd < threshold ? durationToEnd : avg / 2;
  result *= extrapolateTo / sampledInterval;
  return result / ((rangeEnd - rangeStart) / 1000);
}

export interface Bucket {
  upperBound: number;
  count: number;
}

/**
 * Prometheus bucketQuantile(): linear interpolation inside the bucket holding the rank; the +Inf bucket
 * answers with the highest finite bound; no +Inf bucket, or no observations, gives NaN.
 */
export function bucketQuantile(q: number, input: readonly Bucket[]): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return Number.NEGATIVE_INFINITY;
  if (q > 1) return Number.POSITIVE_INFINITY;
  const sorted = [...input].sort((a, b) => a.upperBound - b.upperBound);
  if (sorted.length === 0 || sorted[sorted.length - 1]!.upperBound !== Number.POSITIVE_INFINITY)
    return Number.NaN;
  // Coalesce equal bounds, then force monotonic counts (rates of separate series can jitter).
  const buckets: Bucket[] = [];
  for (const b of sorted) {
    const prev = buckets[buckets.length - 1];
    if (prev && prev.upperBound === b.upperBound) prev.count += b.count;
    else buckets.push({ ...b });
  }
  let max = Number.NEGATIVE_INFINITY;
  for (const b of buckets) {
    if (b.count > max) max = b.count;
    else b.count = max;
  }
  if (buckets.length < 2) return Number.NaN;
  const observations = buckets[buckets.length - 1]!.count;
  if (observations === 0) return Number.NaN;
  let rank = q * observations;
  let b = 0;
  while (b < buckets.length - 1 && buckets[b]!.count < rank) b++;
  if (b === buckets.length - 1) return buckets[buckets.length - 2]!.upperBound;
  if (b === 0 && buckets[0]!.upperBound <= 0) return buckets[0]!.upperBound;
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return bucketStart + (bucketEnd - bucketStart) * (rank / count);
}
