// xDS server metrics under Istio pilot's names, behind a small sink interface that any registry can implement.

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricSpec {
  readonly name: string;
  readonly help: string;
  readonly kind: MetricKind;
  /** Upper bounds (seconds or bytes) for histograms, as Istio defines them. */
  readonly buckets?: readonly number[];
}

const PUSH_BUCKETS = [0.01, 0.1, 1, 3, 5, 10, 20, 30];

/** The metrics the server records, named and bucketed as istiod does (pilot/pkg/xds/monitoring.go). */
export const XDS_METRICS = {
  connected: {
    name: 'pilot_xds',
    help: 'Number of endpoints connected to this pilot using XDS.',
    kind: 'gauge',
  },
  pushes: {
    name: 'pilot_xds_pushes',
    help: 'Pilot build and send errors for lds, rds, cds and eds.',
    kind: 'counter',
  },
  pushTime: {
    name: 'pilot_xds_push_time',
    help: 'Total time in seconds Pilot takes to push lds, rds, cds and eds.',
    kind: 'histogram',
    buckets: PUSH_BUCKETS,
  },
  convergence: {
    name: 'pilot_proxy_convergence_time',
    help: 'Delay in seconds between config change and a proxy receiving all required configuration.',
    kind: 'histogram',
    buckets: [0.1, 0.5, 1, 3, 5, 10, 20, 30],
  },
  rejects: {
    name: 'pilot_total_xds_rejects',
    help: 'Total number of XDS responses from pilot rejected by proxy.',
    kind: 'counter',
  },
  expiredNonce: {
    name: 'pilot_xds_expired_nonce',
    help: 'Total number of XDS requests with an expired nonce.',
    kind: 'counter',
  },
  writeTimeouts: {
    name: 'pilot_xds_write_timeout',
    help: 'Pilot XDS response write timeouts.',
    kind: 'counter',
  },
  configSize: {
    name: 'pilot_xds_config_size_bytes',
    help: 'Distribution of configuration sizes pushed to clients',
    kind: 'histogram',
    buckets: [1, 10000, 1000000, 4000000, 10000000, 40000000],
  },
} as const satisfies Record<string, MetricSpec>;

export type Labels = Readonly<Record<string, string>>;

/** What the server calls; the telemetry room's registry (or MemoryMetrics) implements it. */
export interface MetricsSink {
  add(spec: MetricSpec, value: number, labels?: Labels): void;
  set(spec: MetricSpec, value: number, labels?: Labels): void;
  observe(spec: MetricSpec, value: number, labels?: Labels): void;
}

export const noopMetrics: MetricsSink = { add() {}, set() {}, observe() {} };

export interface HistogramValue {
  count: number;
  sum: number;
  /** Cumulative counts per upper bound, as Prometheus exposes them (last is +Inf). */
  buckets: { le: number; count: number }[];
}

function labelKey(labels: Labels | undefined): string {
  if (!labels) return '';
  return Object.keys(labels)
    .sort()
    .map(
      (k) => `${k}="${String(labels[k]).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`,
    )
    .join(',');
}

/** An in-process sink: readable in tests and benchmarks, and printable as Prometheus text. */
export class MemoryMetrics implements MetricsSink {
  readonly #specs = new Map<string, MetricSpec>();
  readonly #values = new Map<string, Map<string, number>>();
  readonly #histograms = new Map<string, Map<string, HistogramValue>>();

  add(spec: MetricSpec, value: number, labels?: Labels): void {
    const series = this.#series(spec);
    const key = labelKey(labels);
    series.set(key, (series.get(key) ?? 0) + value);
  }

  set(spec: MetricSpec, value: number, labels?: Labels): void {
    this.#series(spec).set(labelKey(labels), value);
  }

  observe(spec: MetricSpec, value: number, labels?: Labels): void {
    this.#specs.set(spec.name, spec);
    let byLabels = this.#histograms.get(spec.name);
    if (!byLabels) {
      byLabels = new Map();
      this.#histograms.set(spec.name, byLabels);
    }
    const key = labelKey(labels);
    let h = byLabels.get(key);
    if (!h) {
      const bounds = [...(spec.buckets ?? []), Number.POSITIVE_INFINITY];
      h = { count: 0, sum: 0, buckets: bounds.map((le) => ({ le, count: 0 })) };
      byLabels.set(key, h);
    }
    h.count++;
    h.sum += value;
    for (const b of h.buckets) if (value <= b.le) b.count++;
  }

  /** A counter's or gauge's value (0 when never recorded). */
  value(name: string, labels?: Labels): number {
    return this.#values.get(name)?.get(labelKey(labels)) ?? 0;
  }

  histogram(name: string, labels?: Labels): HistogramValue | undefined {
    return this.#histograms.get(name)?.get(labelKey(labels));
  }

  /** Prometheus text exposition format (version 0.0.4). */
  toPrometheus(): string {
    const lines: string[] = [];
    for (const [name, spec] of this.#specs) {
      lines.push(`# HELP ${name} ${spec.help}`, `# TYPE ${name} ${spec.kind}`);
      const wrap = (key: string, extra?: string) => {
        const all = [key, extra].filter(Boolean).join(',');
        return all ? `{${all}}` : '';
      };
      for (const [key, v] of this.#values.get(name) ?? []) lines.push(`${name}${wrap(key)} ${v}`);
      for (const [key, h] of this.#histograms.get(name) ?? []) {
        for (const b of h.buckets) {
          const le = b.le === Number.POSITIVE_INFINITY ? '+Inf' : String(b.le);
          lines.push(`${name}_bucket${wrap(key, `le="${le}"`)} ${b.count}`);
        }
        lines.push(`${name}_sum${wrap(key)} ${h.sum}`, `${name}_count${wrap(key)} ${h.count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  #series(spec: MetricSpec): Map<string, number> {
    this.#specs.set(spec.name, spec);
    let series = this.#values.get(spec.name);
    if (!series) {
      series = new Map();
      this.#values.set(spec.name, series);
    }
    return series;
  }
}

/** Istio's metric type label for a type URL: cds, eds, lds, rds, sds, or the type URL itself. */
export function metricType(typeUrl: string): string {
  switch (typeUrl.slice(typeUrl.lastIndexOf('.') + 1)) {
    case 'Cluster':
      return 'cds';
    case 'ClusterLoadAssignment':
      return 'eds';
    case 'Listener':
      return 'lds';
    case 'RouteConfiguration':
      return 'rds';
    case 'Secret':
      return 'sds';
    default:
      return typeUrl;
  }
}
