// The telemetry query interface the control plane serves: golden signals, chart series, graph, process usage.

import { buildServiceGraph, type ServiceGraph } from './graph.js';
import { eq, type LabelMatcher } from './matchers.js';
import { PROCESS_CPU, PROCESS_RSS } from './proc.js';
import {
  EDGE_KEY,
  type GoldenSignals,
  groupedSignals,
  SERVICE_KEY,
  type SignalTimeSeries,
  signalSeries,
  type WindowOptions,
  WORKLOAD_KEY,
} from './signals.js';
import type { MetricsSource } from './source.js';

export interface ServiceSignals extends GoldenSignals {
  /** FQDN (`reviews.default.svc.cluster.local`). */
  service: string;
  name: string;
  namespace: string;
}

export interface WorkloadSignals extends GoldenSignals {
  workload: string;
  namespace: string;
  app: string;
  version: string;
}

export interface EdgeSignals extends GoldenSignals {
  source: { workload: string; namespace: string; app: string; version: string };
  destination: { service: string; workload: string; namespace: string; app: string; version: string };
}

/** Which traffic a chart shows. */
export type SignalScope =
  | { service: string }
  | { workload: string; namespace: string }
  | { sourceWorkload: string; sourceNamespace: string; service: string };

export interface ProcessUsage {
  labels: Record<string, string>;
  /** CPU cores used on average over the window (rate of cpu seconds). */
  cpuCores: number;
  rssBytes: number;
}

const edgeOrder = (e: EdgeSignals) =>
  `${e.source.namespace}/${e.source.workload} ${e.destination.service} ${e.destination.namespace}/${e.destination.workload}`;

function scopeMatchers(scope: SignalScope): LabelMatcher[] {
  if ('sourceWorkload' in scope) {
    return [
      eq('source_workload', scope.sourceWorkload),
      eq('source_workload_namespace', scope.sourceNamespace),
      eq('destination_service', scope.service),
    ];
  }
  if ('workload' in scope) {
    return [
      eq('destination_workload', scope.workload),
      eq('destination_workload_namespace', scope.namespace),
    ];
  }
  return [eq('destination_service', scope.service)];
}

/** Query facade over one MetricsSource: the embedded store (LocalMetricsSource) or Prometheus. */
export class TelemetryQueries {
  readonly source: MetricsSource;

  constructor(source: MetricsSource) {
    this.source = source;
  }

  async serviceSignals(opts: WindowOptions = {}): Promise<ServiceSignals[]> {
    const matchers = opts.namespace ? [eq('destination_service_namespace', opts.namespace)] : [];
    const rows = await groupedSignals(this.source, SERVICE_KEY, { ...opts, matchers });
    return rows
      .map((r) => ({
        service: r.labels.destination_service!,
        name: r.labels.destination_service_name!,
        namespace: r.labels.destination_service_namespace!,
        ...r.signals,
      }))
      .sort((a, b) => (a.service < b.service ? -1 : 1));
  }

  async workloadSignals(opts: WindowOptions = {}): Promise<WorkloadSignals[]> {
    const matchers = opts.namespace ? [eq('destination_workload_namespace', opts.namespace)] : [];
    const rows = await groupedSignals(this.source, WORKLOAD_KEY, { ...opts, matchers });
    return rows
      .filter((r) => r.labels.destination_workload !== 'unknown')
      .map((r) => ({
        workload: r.labels.destination_workload!,
        namespace: r.labels.destination_workload_namespace!,
        app: r.labels.destination_canonical_service!,
        version: r.labels.destination_canonical_revision!,
        ...r.signals,
      }))
      .sort((a, b) => (`${a.namespace}/${a.workload}` < `${b.namespace}/${b.workload}` ? -1 : 1));
  }

  async edgeSignals(opts: WindowOptions = {}): Promise<EdgeSignals[]> {
    const matchers = opts.namespace ? [eq('destination_service_namespace', opts.namespace)] : [];
    const rows = await groupedSignals(this.source, EDGE_KEY, { ...opts, matchers });
    return rows
      .map((r) => {
        const l = r.labels;
        return {
          source: {
            workload: l.source_workload!,
            namespace: l.source_workload_namespace!,
            app: l.source_canonical_service!,
            version: l.source_canonical_revision!,
          },
          destination: {
            service: l.destination_service!,
            workload: l.destination_workload!,
            namespace: l.destination_workload_namespace!,
            app: l.destination_canonical_service!,
            version: l.destination_canonical_revision!,
          },
          ...r.signals,
        };
      })
      .sort((a, b) => (edgeOrder(a) < edgeOrder(b) ? -1 : 1));
  }

  signalSeries(opts: {
    scope: SignalScope;
    windowMs?: number;
    startMs: number;
    endMs: number;
    stepMs: number;
  }): Promise<SignalTimeSeries> {
    const { scope, ...rest } = opts;
    return signalSeries(this.source, { ...rest, matchers: scopeMatchers(scope) });
  }

  graph(opts: WindowOptions = {}): Promise<ServiceGraph> {
    return buildServiceGraph(this.source, opts);
  }

  /** CPU (cores, averaged over the window) and RSS per tracked process. */
  async processUsage(
    opts: { windowMs?: number; atMs?: number; matchers?: LabelMatcher[] } = {},
  ): Promise<ProcessUsage[]> {
    const at = opts.atMs ?? Date.now();
    const matchers = opts.matchers ?? [];
    const [rss, cpu] = await Promise.all([
      this.source.latest(PROCESS_RSS, matchers, at),
      this.source.sumRate(
        { metric: PROCESS_CPU, matchers, rangeMs: opts.windowMs ?? 60_000, by: ['pid'] },
        at,
      ),
    ]);
    const cpuByPid = new Map(cpu.map((s) => [s.labels.pid, s.value]));
    return rss
      .map((s) => ({ labels: s.labels, cpuCores: cpuByPid.get(s.labels.pid) ?? 0, rssBytes: s.value }))
      .sort((a, b) => Number(a.labels.pid) - Number(b.labels.pid));
  }
}
