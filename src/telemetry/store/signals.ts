// Golden signals (rate, 4xx/5xx errors, p50/p90/p99) per service, workload and edge, over any MetricsSource.

import { eq, type LabelMatcher } from './matchers.js';
import {
  groupKey,
  type MetricsSource,
  pick,
  type RangeSeries,
  type RateQuery,
  type VectorSample,
} from './source.js';

export const REQUESTS = 'istio_requests_total';
export const DURATION = 'istio_request_duration_milliseconds';

export type Reporter = 'destination' | 'source';

export interface GoldenSignals {
  /** Requests per second. */
  requestRate: number;
  rate4xx: number;
  rate5xx: number;
  /** (4xx + 5xx) / all, 0 when there was no traffic. */
  errorRate: number;
  /** Milliseconds; undefined when no request was observed. */
  p50?: number;
  p90?: number;
  p99?: number;
  /** Which reporter's telemetry the numbers come from. */
  reporter: Reporter;
}

export interface WindowOptions {
  /** The rate window. Default 60 s. */
  windowMs?: number;
  /** Evaluation time. Default now. */
  atMs?: number;
  namespace?: string;
}

export const QUANTILES = [0.5, 0.9, 0.99] as const;

/** Groupings the views use. Each is the `by (...)` clause of the underlying PromQL. */
export const SERVICE_KEY = [
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
] as const;
export const WORKLOAD_KEY = [
  'destination_workload',
  'destination_workload_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
] as const;
export const EDGE_KEY = [
  'source_workload',
  'source_workload_namespace',
  'source_canonical_service',
  'source_canonical_revision',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_workload',
  'destination_workload_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
] as const;

export interface GroupedSignals {
  labels: Record<string, string>;
  signals: GoldenSignals;
}

function finite(v: number | undefined): number | undefined {
  return v === undefined || !Number.isFinite(v) ? undefined : v;
}

/**
 * Computes golden signals grouped by `by`, preferring the destination reporter for each group and falling
 * back to the source reporter for groups the destination never reported (no sidecar at the destination,
 * or requests that failed before reaching it).
 */
export async function groupedSignals(
  source: MetricsSource,
  by: readonly string[],
  opts: WindowOptions & { matchers?: readonly LabelMatcher[] },
): Promise<GroupedSignals[]> {
  const windowMs = opts.windowMs ?? 60_000;
  const at = opts.atMs ?? Date.now();
  const base = opts.matchers ?? [];
  const query = (reporter: Reporter, metric: string, extraBy: readonly string[]): RateQuery => ({
    metric,
    matchers: [eq('reporter', reporter), ...base],
    rangeMs: windowMs,
    by: [...by, ...extraBy],
  });
  const [destRates, srcRates] = await Promise.all([
    source.sumRate(query('destination', REQUESTS, ['response_code']), at),
    source.sumRate(query('source', REQUESTS, ['response_code']), at),
  ]);
  const chosen = new Map<
    string,
    { labels: Record<string, string>; reporter: Reporter; rates: VectorSample[] }
  >();
  for (const [reporter, rates] of [
    ['destination', destRates],
    ['source', srcRates],
  ] as const) {
    for (const s of rates) {
      const key = groupKey(s.labels, by);
      const c = chosen.get(key);
      if (!c) chosen.set(key, { labels: pick(s.labels, by), reporter, rates: [s] });
      else if (c.reporter === reporter) c.rates.push(s);
    }
  }
  const reporters = new Set([...chosen.values()].map((c) => c.reporter));
  const quantiles = new Map<string, number>();
  await Promise.all(
    [...reporters].flatMap((reporter) =>
      QUANTILES.map(async (q) => {
        for (const s of await source.histogramQuantile(q, query(reporter, DURATION, []), at)) {
          const key = groupKey(s.labels, by);
          if (chosen.get(key)?.reporter === reporter) quantiles.set(`${q}\u0000${key}`, s.value);
        }
      }),
    ),
  );
  const out: GroupedSignals[] = [];
  for (const [key, c] of chosen) {
    let total = 0;
    let r4 = 0;
    let r5 = 0;
    for (const s of c.rates) {
      total += s.value;
      const code = s.labels.response_code ?? '';
      if (code.startsWith('4')) r4 += s.value;
      else if (code.startsWith('5')) r5 += s.value;
    }
    const signals: GoldenSignals = {
      requestRate: total,
      rate4xx: r4,
      rate5xx: r5,
      errorRate: total > 0 ? (r4 + r5) / total : 0,
      reporter: c.reporter,
    };
    const [p50, p90, p99] = QUANTILES.map((q) => finite(quantiles.get(`${q}\u0000${key}`)));
    if (p50 !== undefined) signals.p50 = p50;
    if (p90 !== undefined) signals.p90 = p90;
    if (p99 !== undefined) signals.p99 = p99;
    out.push({ labels: c.labels, signals });
  }
  return out;
}

export interface SignalTimeSeries {
  timestamps: number[];
  requestRate: number[];
  rate4xx: number[];
  rate5xx: number[];
  errorRate: number[];
  /** null where no request was observed in the window ending at that step. */
  p50: (number | null)[];
  p90: (number | null)[];
  p99: (number | null)[];
  reporter: Reporter;
}

/**
 * Chart data for one scope (the matchers select it): the same signals evaluated at every step. The reporter
 * is chosen once for the whole range (destination when it reported anything).
 */
export async function signalSeries(
  source: MetricsSource,
  opts: {
    matchers: readonly LabelMatcher[];
    windowMs?: number;
    startMs: number;
    endMs: number;
    stepMs: number;
  },
): Promise<SignalTimeSeries> {
  const windowMs = opts.windowMs ?? 60_000;
  const range = { startMs: opts.startMs, endMs: opts.endMs, stepMs: opts.stepMs };
  const q = (reporter: Reporter, metric: string, by: string[]): RateQuery => ({
    metric,
    matchers: [eq('reporter', reporter), ...opts.matchers],
    rangeMs: windowMs,
    by,
  });
  let reporter: Reporter = 'destination';
  let rates = await source.sumRateRange(q('destination', REQUESTS, ['response_code']), range);
  if (rates.length === 0) {
    reporter = 'source';
    rates = await source.sumRateRange(q('source', REQUESTS, ['response_code']), range);
  }
  const timestamps: number[] = [];
  for (let t = opts.startMs; t <= opts.endMs; t += opts.stepMs) timestamps.push(t);
  const index = new Map(timestamps.map((t, i) => [t, i]));
  const zeros = () => timestamps.map(() => 0);
  const out: SignalTimeSeries = {
    timestamps,
    requestRate: zeros(),
    rate4xx: zeros(),
    rate5xx: zeros(),
    errorRate: zeros(),
    p50: timestamps.map(() => null),
    p90: timestamps.map(() => null),
    p99: timestamps.map(() => null),
    reporter,
  };
  for (const s of rates) {
    const code = s.labels.response_code ?? '';
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i === undefined) continue;
      out.requestRate[i]! += v;
      if (code.startsWith('4')) out.rate4xx[i]! += v;
      else if (code.startsWith('5')) out.rate5xx[i]! += v;
    }
  }
  for (let i = 0; i < timestamps.length; i++) {
    const total = out.requestRate[i]!;
    out.errorRate[i] = total > 0 ? (out.rate4xx[i]! + out.rate5xx[i]!) / total : 0;
  }
  const fill = (target: (number | null)[], series: RangeSeries[]) => {
    for (const s of series) {
      for (const [t, v] of s.points) {
        const i = index.get(t);
        if (i !== undefined && Number.isFinite(v)) target[i] = v;
      }
    }
  };
  const [p50, p90, p99] = await Promise.all(
    QUANTILES.map((quantile) => source.histogramQuantileRange(quantile, q(reporter, DURATION, []), range)),
  );
  fill(out.p50, p50!);
  fill(out.p90, p90!);
  fill(out.p99, p99!);
  return out;
}
