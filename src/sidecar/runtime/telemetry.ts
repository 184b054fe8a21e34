// The sidecar's telemetry sinks (SidecarTelemetry): one metrics registry, Envoy stats, shared access log
// sinks by path, and one tracer per tracing config exporting through the collector cluster.

import type { Clock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import type { Logger } from '../../shared/log.js';
import { AccessLogger } from '../../telemetry/accesslog/logger.js';
import { AccessLogSink } from '../../telemetry/accesslog/sink.js';
import { IstioMetrics } from '../../telemetry/metrics/istio.js';
import { MetricsRegistry } from '../../telemetry/metrics/registry.js';
import type { RequestRecord } from '../../telemetry/record.js';
import { StatsStore } from '../../telemetry/stats/store.js';
import { otlpJsonEncoder, type SpanEncoder, zipkinJsonEncoder } from '../../telemetry/trace/encode.js';
import { Tracer } from '../../telemetry/trace/tracer.js';
import type { AccessLogConfig, TracingConfig } from '../config/model.js';
import type { SidecarTelemetry } from './contracts.js';
import type { LocalFacts } from './node-facts.js';
import { ClusterSpanSink, type CollectorHosts } from './span-sink.js';

export interface TelemetrySinksOptions {
  local: LocalFacts;
  /** Where collector hosts come from (the cluster manager). */
  collectors: CollectorHosts;
  clock: Clock;
  logger: Logger;
  /** Locality zone, for the `zone` span tag. */
  zone?: string;
  /** Idle series expire after this long (istio#35066); default 10 min. */
  seriesIdleMs?: number;
  random?: () => number;
}

type LogFn = { log(record: RequestRecord): void };

const NOOP_LOGGER: LogFn = { log() {} };

export class SidecarTelemetrySinks implements SidecarTelemetry {
  readonly registry: MetricsRegistry;
  readonly istio: IstioMetrics;
  readonly stats = new StatsStore();
  readonly local: LocalFacts;
  readonly #opts: TelemetrySinksOptions;
  readonly #sinks = new Map<string, AccessLogSink>();
  readonly #loggers = new Map<string, LogFn>();
  readonly #tracers = new Map<string, { tracer: Tracer; sink: ClusterSpanSink }>();

  constructor(opts: TelemetrySinksOptions) {
    this.#opts = opts;
    this.local = opts.local;
    this.registry = new MetricsRegistry({
      clock: opts.clock,
      ...(opts.seriesIdleMs !== undefined && { seriesIdleMs: opts.seriesIdleMs }),
    });
    this.istio = new IstioMetrics({ registry: this.registry });
    this.registry.start();
  }

  /** One logger per distinct format and path; every HCM and tcp_proxy writing to a path shares its sink. */
  accessLoggers(configs: readonly AccessLogConfig[]): LogFn[] {
    return configs.map((c) => {
      const key = JSON.stringify(c);
      let logger = this.#loggers.get(key);
      if (!logger) {
        logger = this.#makeLogger(c);
        this.#loggers.set(key, logger);
      }
      return logger;
    });
  }

  /** The tracer for a tracing config (shared by every HCM with the same config), undefined when off. */
  tracer(config: TracingConfig | undefined): Tracer | undefined {
    if (!config) return undefined;
    const key = JSON.stringify(config);
    const found = this.#tracers.get(key);
    if (found) return found.tracer;
    const o = this.#opts;
    const p = config.provider;
    const sink = new ClusterSpanSink({
      cluster: p.collectorCluster,
      encoder: encoderFor(config),
      hosts: o.collectors,
      clock: o.clock,
      logger: o.logger,
      ...(p.kind === 'opentelemetry' && p.timeoutMs > 0 && { timeoutMs: p.timeoutMs }),
    });
    const l = this.local;
    const tracer = new Tracer({
      nodeId: l.nodeId,
      canonicalService: l.canonicalService ?? l.workloadName ?? 'unknown',
      ...(l.canonicalRevision && { canonicalRevision: l.canonicalRevision }),
      namespace: l.namespace ?? 'default',
      meshId: l.meshId,
      ...(l.cluster && { clusterId: l.cluster }),
      ...(o.zone && { zone: o.zone }),
      samplingPercentage: config.randomSamplingPercent,
      sink,
      clock: o.clock,
      ...(o.random && { random: o.random }),
    });
    this.#tracers.set(key, { tracer, sink });
    return tracer;
  }

  /** Spans handed to exporters, over every tracer. */
  spanStats(): { exported: number; queued: number; dropped: number } {
    const out = { exported: 0, queued: 0, dropped: 0 };
    for (const { sink } of this.#tracers.values()) {
      const s = sink.stats();
      out.exported += s.exported;
      out.queued += s.queued;
      out.dropped += s.dropped;
    }
    return out;
  }

  /** The istio_* families in Prometheus text. */
  renderIstio(): string {
    return this.registry.render();
  }

  /** Last writes before exit: access log lines on disk, spans to their collectors. */
  async close(): Promise<void> {
    this.registry.stop();
    await Promise.all([
      ...[...this.#sinks.values()].map((s) => s.close()),
      ...[...this.#tracers.values()].map((t) => t.sink.shutdown()),
    ]);
  }

  #makeLogger(c: AccessLogConfig): LogFn {
    const path = c.path === '/dev/stdout' || c.path === '' ? 'stdout' : c.path;
    let sink = this.#sinks.get(path);
    if (!sink) {
      sink = new AccessLogSink({ destination: path === 'stdout' ? 'stdout' : { path } });
      this.#sinks.set(path, sink);
    }
    try {
      const logger =
        c.format.kind === 'json'
          ? new AccessLogger({ sink, encoding: 'JSON', format: c.format.json })
          : new AccessLogger({ sink, encoding: 'TEXT', format: c.format.text });
      return logger;
    } catch (e) {
      this.#opts.logger.error('access log format refused; this log is off', { path, error: errorMessage(e) });
      return NOOP_LOGGER;
    }
  }
}

function encoderFor(config: TracingConfig): SpanEncoder {
  const p = config.provider;
  const base = p.kind === 'zipkin' ? zipkinJsonEncoder : otlpJsonEncoder;
  const path = p.kind === 'zipkin' ? p.endpoint : pathOf(p.uri);
  return path ? { ...base, path, encode: base.encode } : base;
}

function pathOf(uri: string): string | undefined {
  try {
    return new URL(uri).pathname || undefined;
  } catch {
    return uri.startsWith('/') ? uri : undefined;
  }
}
