// The Prometheus backend: file_sd scrape config for a real Prometheus, and MetricsSource over its HTTP API.

import { rename, writeFile } from 'node:fs/promises';
import { TrellisError } from '../../shared/errors.js';
import { type LabelMatcher, renderSelector } from './matchers.js';
import type { ScrapeTarget } from './scraper.js';
import type { MetricsSource, RangeSeries, RangeSpec, RateQuery, VectorSample } from './source.js';

/** Writes targets as a Prometheus file_sd JSON file, atomically (Prometheus watches the file). */
export async function writeFileSdTargets(path: string, targets: readonly ScrapeTarget[]): Promise<void> {
  const groups = targets.map((t) => {
    const u = new URL(t.url);
    return {
      targets: [u.host],
      labels: { ...t.labels, __metrics_path__: u.pathname, __scheme__: u.protocol.slice(0, -1) },
    };
  });
  const tmp = `${path}.tmp`;
  await writeFile(tmp, `${JSON.stringify(groups, null, 2)}\n`);
  await rename(tmp, path);
}

/** A minimal prometheus.yml scraping the file_sd targets. */
export function prometheusConfig(opts: {
  fileSdPath: string;
  scrapeIntervalMs?: number;
  jobName?: string;
}): string {
  const interval = `${Math.max(1, Math.round((opts.scrapeIntervalMs ?? 5000) / 1000))}s`;
  return [
    'global:',
    `  scrape_interval: ${interval}`,
    `  evaluation_interval: ${interval}`,
    'scrape_configs:',
    `  - job_name: ${JSON.stringify(opts.jobName ?? 'trellis')}`,
    `    scrape_interval: ${interval}`,
    '    file_sd_configs:',
    `      - files: [${JSON.stringify(opts.fileSdPath)}]`,
    `        refresh_interval: ${interval}`,
    '',
  ].join('\n');
}

const seconds = (ms: number) => `${Math.max(1, Math.round(ms / 1000))}s`;

/** `sum(rate(m{...}[60s])) by (a,b)` — the shape of Kiali's queries. */
export function rateExpr(q: RateQuery, metric = q.metric, extraBy: readonly string[] = []): string {
  const by = [...extraBy, ...q.by];
  const inner = `sum(rate(${renderSelector(metric, q.matchers ?? [])}[${seconds(q.rangeMs)}]))`;
  return by.length ? `${inner} by (${by.join(',')})` : inner;
}

export function quantileExpr(quantile: number, q: RateQuery): string {
  return `histogram_quantile(${quantile}, ${rateExpr(q, `${q.metric}_bucket`, ['le'])})`;
}

type PromValue = [number, string];
interface PromResult {
  metric: Record<string, string>;
  value?: PromValue;
  values?: PromValue[];
}

function num(v: string): number {
  return v === 'NaN'
    ? Number.NaN
    : v === '+Inf'
      ? Number.POSITIVE_INFINITY
      : v === '-Inf'
        ? Number.NEGATIVE_INFINITY
        : Number(v);
}

/** MetricsSource answering through Prometheus's `/api/v1/query` and `/api/v1/query_range`. */
export class PrometheusMetricsSource implements MetricsSource {
  readonly #base: string;
  /** The last PromQL sent, for debugging and tests. */
  readonly queries: string[] = [];

  constructor(opts: { url: string }) {
    this.#base = opts.url.replace(/\/$/, '');
  }

  async #call(path: string, params: Record<string, string>): Promise<PromResult[]> {
    const body = new URLSearchParams(params).toString();
    if (params.query) this.queries.push(params.query);
    const res = await fetch(`${this.#base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    const json = (await res.json()) as { status: string; error?: string; data?: { result: PromResult[] } };
    if (json.status !== 'success') {
      throw new TrellisError(
        'PROMETHEUS_QUERY',
        `Prometheus rejected "${params.query}": ${json.error ?? res.status}`,
      );
    }
    return json.data?.result ?? [];
  }

  async #instant(expr: string, atMs: number): Promise<VectorSample[]> {
    const r = await this.#call('/api/v1/query', { query: expr, time: String(atMs / 1000) });
    return r.map((x) => ({ labels: x.metric, value: num(x.value![1]) }));
  }

  async #range(expr: string, spec: RangeSpec): Promise<RangeSeries[]> {
    const r = await this.#call('/api/v1/query_range', {
      query: expr,
      start: String(spec.startMs / 1000),
      end: String(spec.endMs / 1000),
      step: String(spec.stepMs / 1000),
    });
    return r.map((x) => ({
      labels: x.metric,
      points: (x.values ?? []).map(([t, v]): [number, number] => [Math.round(t * 1000), num(v)]),
    }));
  }

  sumRate(q: RateQuery, atMs: number): Promise<VectorSample[]> {
    return this.#instant(rateExpr(q), atMs);
  }

  histogramQuantile(quantile: number, q: RateQuery, atMs: number): Promise<VectorSample[]> {
    return this.#instant(quantileExpr(quantile, q), atMs);
  }

  sumRateRange(q: RateQuery, spec: RangeSpec): Promise<RangeSeries[]> {
    return this.#range(rateExpr(q), spec);
  }

  histogramQuantileRange(quantile: number, q: RateQuery, spec: RangeSpec): Promise<RangeSeries[]> {
    return this.#range(quantileExpr(quantile, q), spec);
  }

  latest(metric: string, matchers: readonly LabelMatcher[], atMs: number): Promise<VectorSample[]> {
    return this.#instant(renderSelector(metric, matchers), atMs);
  }
}
