// MetricsSource over the embedded TimeSeriesStore, using Prometheus's rate and quantile arithmetic.

import type { LabelMatcher } from './matchers.js';
import { bucketQuantile, promRate } from './promql-math.js';
import {
  groupKey,
  type MetricsSource,
  pick,
  type RangeSeries,
  type RangeSpec,
  type RateQuery,
  type VectorSample,
} from './source.js';
import type { TimeSeriesStore } from './tsdb.js';

const LOOKBACK_MS = 300_000;

export class LocalMetricsSource implements MetricsSource {
  readonly #store: TimeSeriesStore;

  constructor(store: TimeSeriesStore) {
    this.#store = store;
  }

  #sumRateSync(metric: string, q: RateQuery, by: readonly string[], at: number): Map<string, VectorSample> {
    const groups = new Map<string, VectorSample>();
    for (const s of this.#store.select(metric, q.matchers ?? [])) {
      const { t, v } = s.range(at - q.rangeMs, at);
      const r = promRate(t, v, at - q.rangeMs, at);
      if (r === undefined) continue;
      const key = groupKey(s.labels, by);
      const g = groups.get(key);
      if (g) g.value += r;
      else groups.set(key, { labels: pick(s.labels, by), value: r });
    }
    return groups;
  }

  #quantileSync(quantile: number, q: RateQuery, at: number): VectorSample[] {
    const bucketRates = this.#sumRateSync(`${q.metric}_bucket`, q, [...q.by, 'le'], at);
    const groups = new Map<
      string,
      { labels: Record<string, string>; buckets: { upperBound: number; count: number }[] }
    >();
    for (const s of bucketRates.values()) {
      const key = groupKey(s.labels, q.by);
      let g = groups.get(key);
      if (!g) {
        g = { labels: pick(s.labels, q.by), buckets: [] };
        groups.set(key, g);
      }
      const le = s.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(s.labels.le);
      g.buckets.push({ upperBound: le, count: s.value });
    }
    return [...groups.values()].map((g) => ({
      labels: g.labels,
      value: bucketQuantile(quantile, g.buckets),
    }));
  }

  async sumRate(q: RateQuery, atMs: number): Promise<VectorSample[]> {
    return [...this.#sumRateSync(q.metric, q, q.by, atMs).values()];
  }

  async histogramQuantile(quantile: number, q: RateQuery, atMs: number): Promise<VectorSample[]> {
    return this.#quantileSync(quantile, q, atMs);
  }

  #range(spec: RangeSpec, at: (t: number) => VectorSample[], by: readonly string[]): RangeSeries[] {
    const series = new Map<string, RangeSeries>();
    for (let t = spec.startMs; t <= spec.endMs; t += spec.stepMs) {
      for (const s of at(t)) {
        const key = groupKey(s.labels, by);
        let r = series.get(key);
        if (!r) {
          r = { labels: s.labels, points: [] };
          series.set(key, r);
        }
        r.points.push([t, s.value]);
      }
    }
    return [...series.values()];
  }

  async sumRateRange(q: RateQuery, spec: RangeSpec): Promise<RangeSeries[]> {
    return this.#range(spec, (t) => [...this.#sumRateSync(q.metric, q, q.by, t).values()], q.by);
  }

  async histogramQuantileRange(quantile: number, q: RateQuery, spec: RangeSpec): Promise<RangeSeries[]> {
    return this.#range(spec, (t) => this.#quantileSync(quantile, q, t), q.by);
  }

  async latest(metric: string, matchers: readonly LabelMatcher[], atMs: number): Promise<VectorSample[]> {
    const out: VectorSample[] = [];
    for (const s of this.#store.select(metric, matchers)) {
      const v = s.latest(atMs, LOOKBACK_MS);
      if (v !== undefined) out.push({ labels: { ...s.labels }, value: v });
    }
    return out;
  }
}
