// The query primitives both telemetry backends implement: sum(rate()) by, histogram_quantile, latest values.

import type { LabelMatcher } from './matchers.js';

/** `sum(rate(metric{matchers}[rangeMs])) by (by...)` */
export interface RateQuery {
  metric: string;
  matchers?: readonly LabelMatcher[];
  rangeMs: number;
  by: readonly string[];
}

export interface VectorSample {
  labels: Record<string, string>;
  value: number;
}

export interface RangeSeries {
  labels: Record<string, string>;
  /** [epoch ms, value] pairs at the query steps that had a value. */
  points: [number, number][];
}

export interface RangeSpec {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/** Answers the queries the telemetry views need; the local store and Prometheus each implement it. */
export interface MetricsSource {
  sumRate(q: RateQuery, atMs: number): Promise<VectorSample[]>;
  /** `histogram_quantile(q, sum(rate(<metric>_bucket{...}[range])) by (le, by...))`; NaN where no observations. */
  histogramQuantile(quantile: number, q: RateQuery, atMs: number): Promise<VectorSample[]>;
  sumRateRange(q: RateQuery, range: RangeSpec): Promise<RangeSeries[]>;
  histogramQuantileRange(quantile: number, q: RateQuery, range: RangeSpec): Promise<RangeSeries[]>;
  /** The instant vector `metric{matchers}` (newest sample within 5 minutes, as Prometheus's lookback). */
  latest(metric: string, matchers: readonly LabelMatcher[], atMs: number): Promise<VectorSample[]>;
}

/** The label values of `by`, joined: the grouping key both backends use. */
export function groupKey(labels: Readonly<Record<string, string>>, by: readonly string[]): string {
  let k = '';
  for (const name of by) k += `${labels[name] ?? ''}\u0000`;
  return k;
}

export function pick(
  labels: Readonly<Record<string, string>>,
  by: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of by) out[name] = labels[name] ?? '';
  return out;
}
